import Foundation

/// How the experiment's train/test split is made — the one declaration every stage reads.
///
/// `image` (the default, the paper's design): the same keywords in train and test, disjoint images; at least
/// `testImagesPerKeyword` kept images of each keyword with two or more are held out. `keyword`: whole keywords
/// are held out (unseen-class studies); every image of a test keyword is a test image.
public struct SplitSettings: Sendable, Hashable, Codable {
    public enum Design: String, Sendable, Hashable, Codable, CaseIterable { case image, keyword }

    public var design: Design = .image
    /// Share of keywords (design `keyword`) or of each keyword's kept images (design `image`, at least
    /// `testImagesPerKeyword`) held out for test.
    public var testFraction = 0.2
    /// Design `image`: the least number of kept images per keyword held out (never all of them).
    public var testImagesPerKeyword = 1
    public var seed = 0

    public init(design: Design = .image, testFraction: Double = 0.2, testImagesPerKeyword: Int = 1, seed: Int = 0) {
        self.design = design
        self.testFraction = testFraction
        self.testImagesPerKeyword = testImagesPerKeyword
        self.seed = seed
    }

    /// The recipe's `mcq.split_by`, `mcq.test_fraction`, `mcq.test_images_per_keyword` and `mcq.seed`.
    public init(recipe: Recipe) {
        if let name = recipe.string("mcq.split_by"), let design = Design(rawValue: name) { self.design = design }
        testFraction = recipe.double("mcq.test_fraction") ?? testFraction
        testImagesPerKeyword = recipe.int("mcq.test_images_per_keyword") ?? testImagesPerKeyword
        seed = recipe.int("mcq.seed") ?? seed
    }

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
