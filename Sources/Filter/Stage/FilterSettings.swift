import Dataset
import Foundation
import Imaging

/// The filter's settings: defaults (the VLV recipe: short side ≥ 512, aspect 0.5–2.0, no watermark), then the
/// recipe's `filter:` section, then command-line overrides.
///
/// The filter-wide keys (duplicates, semantic duplicates, `min_per_keyword`, `concurrency`, the embedding model) are declared here; each per-image rule
/// declares its own keys and defaults beside its code (`RegisteredRule`), stored here by rule name and read with
/// `settings[MinShortSideRule.self]`.
public struct FilterSettings: RecipeSettings {
    public static let sectionName = "filter"

    /// Each registered rule's settings, by rule name; a rule without an entry has its defaults.
    var ruleSettings: [String: any RuleSettings] = [:]
    public var duplicates = true
    public var phashDistance = 8
    /// `exact` (default): bit-exact with Python imagehash, interchangeable with hashes made elsewhere.
    /// `fast`: JPEGs decoded with DCT scaling first, ~1.5× the hashing throughput, ≤ 2 bits from exact on
    /// K-Viscuit. With the integrity rule on, exact is cheaper overall: the verifying decode yields it.
    public var phashMode: PHashMode = .exact
    /// `filter.semantic_duplicates.*`: within a keyword, images whose embeddings meet at cosine ≥ the threshold are
    /// one picture (the best kept); the same threshold holds a training image out as a near copy of a test image.
    public var semanticDuplicates = false
    public var semanticThreshold = 0.95
    /// `filter.embeddings.*`: the model `dsbuild embed` runs (declared in Dataset, read by Train too).
    public var embeddings = EmbeddingSettings()
    public var minPerKeyword = 1
    public var concurrency = 2
    /// A pause before each image (tests use it to interrupt a run midway; `DSBUILD_TEST_FILTER_DELAY_MS`).
    public var delayPerImage: Duration = .zero

    public init() {}

    /// Size limits (`min_short_side`, `--min-short-side`, …): 0 turns a limit off, negative is an error.
    public static let sizeLimitRule = ValueRule.atLeast(0)
    /// `duplicates.phash_distance` and `--phash-distance`: a Hamming distance between 64-bit hashes.
    public static let phashDistanceRule = ValueRule.within(0, 64)
    /// `min_per_keyword` and `--min-per-keyword`.
    public static let minPerKeywordRule = ValueRule.atLeast(0)

    /// Every rule's keys (in `FilterRules.all` order), then the filter-wide ones.
    public static let keys: [SettingKey<FilterSettings>] = FilterRules.keys + [
        .bool("duplicates.enabled", \.duplicates, help: "keep one image of each group of near duplicates"),
        .int("duplicates.phash_distance", \.phashDistance, rule: phashDistanceRule,
             help: "pHash Hamming distance at or below which two images are duplicates"),
        .choice("duplicates.phash", \.phashMode, help: "exact (imagehash-compatible) or fast (DCT-scaled JPEG decode)"),
        .bool("semantic_duplicates.enabled", \.semanticDuplicates,
              help: "keep one image of each group whose embeddings meet at cosine >= threshold (needs `dsbuild embed`)"),
        .number("semantic_duplicates.threshold", \.semanticThreshold, rule: semanticThresholdRule,
                help: "embedding cosine at or above which two images are one picture (also: a near copy of a test image)"),
        .int("min_per_keyword", \.minPerKeyword, rule: minPerKeywordRule,
             help: "warn about keywords left with fewer kept images"),
        .int("concurrency", \.concurrency, rule: .atLeast(1), help: "images checked at once"),
    ] + EmbeddingSettings.keys.map { $0.lifted(into: \FilterSettings.embeddings, under: "embeddings") }

    /// `semantic_duplicates.threshold`: a cosine.
    public static let semanticThresholdRule = ValueRule.within(-1, 1)

    /// When two images are one picture by their embeddings (nil: no embedding model configured).
    public var semanticMatch: SemanticMatch? {
        embeddings.model.map { SemanticMatch(model: $0, threshold: semanticThreshold) }
    }

    /// The per-image rules these settings switch on, in the order they are reported (`FilterRules.all`).
    /// - Parameter hashes: where the integrity rule puts exact pHashes its decodes yield (exact mode only).
    /// - Parameters relevance, siblings: the relevance judge and the dataset's keywords (the relevance rule needs both).
    /// - Parameter embeddings: what `clip_rank` ranks with (nil: no model configured, the rule is not built).
    public func rules(analyzer: (any PixelAnalyzing)?, judge: (any WatermarkJudging)?,
                      hashes: PHashByproducts? = nil, relevance: (any RelevanceJudging)? = nil,
                      siblings: KeywordSiblings? = nil, embeddings: FilterEmbeddings? = nil) -> [any FilterRule] {
        let context = RuleContext(analyzer: analyzer, judge: judge,
                                  hashes: duplicates && phashMode == .exact ? hashes : nil,
                                  relevance: relevance, siblings: siblings, embeddings: embeddings)
        return FilterRules.all.compactMap { $0.build(from: self, context: context) }
    }
}

/// Which pHash the duplicates rule compares (`filter.duplicates.phash`).
public enum PHashMode: String, Sendable, CaseIterable {
    case exact, fast

    /// The hash computation this mode asks for.
    public var hashMode: PerceptualHash.Mode { self == .exact ? .exact : .fast() }
    /// The `images` column its hashes are cached in.
    var column: String { self == .exact ? "phash" : "phash_fast" }
}
