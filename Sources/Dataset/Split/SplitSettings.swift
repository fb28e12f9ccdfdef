import Foundation

/// How the experiment's train/test split is made — the one declaration every stage reads.
///
/// `image` (the default, the paper's design): the same keywords in train and test, disjoint images; at least
/// `testImagesPerKeyword` kept images of each keyword with two or more are held out. `keyword`: whole keywords
/// are held out (unseen-class studies); every image of a test keyword is a test image.
///
/// Its keys live in the recipe's `mcq:` section (`MCQSettings` lifts them); `shards` reads them too.
public struct SplitSettings: RecipeSettings, Hashable, Codable {
    public static let sectionName = "mcq"

    public enum Design: String, Sendable, Hashable, Codable, CaseIterable { case image, keyword }

    public var design: Design = .image
    /// Share of keywords (design `keyword`) or of each keyword's kept images (design `image`, at least
    /// `testImagesPerKeyword`) held out for test.
    public var testFraction = 0.2
    /// Design `image`: the least number of kept images per keyword held out (never all of them).
    public var testImagesPerKeyword = 1
    public var seed = 0

    public init() {}

    public init(design: Design = .image, testFraction: Double = 0.2, testImagesPerKeyword: Int = 1, seed: Int = 0) {
        self.design = design
        self.testFraction = testFraction
        self.testImagesPerKeyword = testImagesPerKeyword
        self.seed = seed
    }

    /// `mcq.test_fraction` and `--test-fraction`.
    public static let testFractionRule = ValueRule.fraction
    /// `mcq.test_images_per_keyword` and `--test-images-per-keyword`.
    public static let testImagesPerKeywordRule = ValueRule.atLeast(1)

    public static let keys: [SettingKey<SplitSettings>] = [
        .choice("split_by", \.design, help: "image: same keywords in train and test, disjoint images; keyword: held-out keywords"),
        .number("test_fraction", \.testFraction, rule: testFractionRule,
                help: "share of keywords (split_by keyword) or of each keyword's kept images (image) held out for test"),
        .int("test_images_per_keyword", \.testImagesPerKeyword, rule: testImagesPerKeywordRule,
             help: "split_by image: the least number of kept images held out per keyword with two or more"),
        .int("seed", \.seed, help: "seed of the split, answer placement, distractors and Type 2 variants (not llm.seed)"),
    ]

    /// Identifies the settings a stored split was made with.
    public var hash: String {
        String(ContentHash.sha256Hex("split|\(design.rawValue)|\(testFraction)|\(testImagesPerKeyword)|\(seed)").prefix(16))
    }

    public var summary: String {
        switch design {
        case .image: "split_by=image, test_images_per_keyword=\(testImagesPerKeyword), test_fraction=\(testFraction), seed=\(seed)"
        case .keyword: "split_by=keyword, test_fraction=\(testFraction), seed=\(seed)"
        }
    }

    public var json: [String: Any] {
        ["split_by": design.rawValue, "test_fraction": testFraction, "test_images_per_keyword": testImagesPerKeyword, "seed": seed]
    }
}
