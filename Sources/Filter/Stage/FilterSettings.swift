import Dataset
import Foundation

/// The filter's settings: defaults (the VLV recipe: short side ≥ 512, aspect 0.5–2.0, no watermark), then the
/// recipe's `filter:` section, then command-line overrides.
public struct FilterSettings: RecipeSettings {
    public static let sectionName = "filter"

    public var minShortSide: Int? = 512
    public var maxLongSide: Int?
    public var minPixels: Int?
    public var maxPixels: Int?
    public var aspectRatio: (Double, Double)? = (0.5, 2.0)
    public var minBytes: Int?
    public var maxBytes: Int?
    public var formats: [String]?
    public var dropAnimated = true
    public var watermark = true
    public var pwatermarkThreshold = 0.8
    public var stockNames = WatermarkRule.defaultStockNames
    public var stockDomains = WatermarkRule.defaultStockDomains
    public var vlmJudge = false
    /// The judge's model; nil asks `llm.model`.
    public var vlmModel: String?
    public var rights = true
    public var integrity = true
    public var integrityMaxPixels = 178_956_970
    public var duplicates = true
    public var phashDistance = 8
    /// `exact` (default): bit-exact with Python imagehash, interchangeable with hashes made elsewhere.
    /// `fast`: JPEGs decoded with DCT scaling first, ~1.5× the hashing throughput, ≤ 2 bits from exact on
    /// K-Viscuit. With the integrity rule on, exact is cheaper overall: the verifying decode yields it.
    public var phashMode: PHashMode = .exact
    public var minPerKeyword = 1
    public var concurrency = 2
    /// A pause before each image (tests use it to interrupt a run midway; `DSBUILD_TEST_FILTER_DELAY_MS`).
    public var delayPerImage: Duration = .zero

    public init() {}

    /// `filter.aspect_ratio` and `--aspect-ratio`: [MIN, MAX], 0 < MIN ≤ MAX.
    public static let aspectRatioRule = ValueRule.positiveRange
    /// Size limits (`min_short_side`, `--min-short-side`, …): 0 turns a limit off, negative is an error.
    public static let sizeLimitRule = ValueRule.atLeast(0)
    /// `duplicates.phash_distance` and `--phash-distance`: a Hamming distance between 64-bit hashes.
    public static let phashDistanceRule = ValueRule.within(0, 64)
    /// `min_per_keyword` and `--min-per-keyword`.
    public static let minPerKeywordRule = ValueRule.atLeast(0)

    public static let keys: [SettingKey<FilterSettings>] = [
        .int("min_short_side", \.minShortSide, rule: sizeLimitRule, zeroMeansOff: true,
             help: "drop images whose shorter side is below this many pixels (0: off)"),
        .int("max_long_side", \.maxLongSide, rule: sizeLimitRule, zeroMeansOff: true,
             help: "drop images whose longer side is above this many pixels (0 or unset: off)"),
        .int("min_pixels", \.minPixels, rule: sizeLimitRule, zeroMeansOff: true, help: "drop images with fewer pixels (0 or unset: off)"),
        .int("max_pixels", \.maxPixels, rule: sizeLimitRule, zeroMeansOff: true, help: "drop images with more pixels (0 or unset: off)"),
        .custom("aspect_ratio", .checked(.list(.number), aspectRatioRule),
                help: "[MIN, MAX] width/height ratio an image must fall in",
                apply: { s, v in
                    let pair = v.listValue?.compactMap(\.doubleValue) ?? []
                    if pair.count == 2 { s.aspectRatio = (pair[0], pair[1]) }
                },
                render: { s in s.aspectRatio.map { .list([.double($0.0), .double($0.1)]) } ?? .null }),
        .int("min_bytes", \.minBytes, rule: sizeLimitRule, zeroMeansOff: true, help: "drop files smaller than this (0 or unset: off)"),
        .int("max_bytes", \.maxBytes, rule: sizeLimitRule, zeroMeansOff: true, help: "drop files larger than this (0 or unset: off)"),
        .strings("formats", \.formats, element: .choice(ImageFormat.allCases.map(\.rawValue) + ["jpg"]),
                 help: "keep only these formats; unset: all"),
        .custom("animated", .choice(["drop", "keep"]), help: "drop or keep animated images",
                apply: { s, v in if let t = v.stringValue { s.dropAnimated = t == "drop" } },
                render: { .string($0.dropAnimated ? "drop" : "keep") }),
        .bool("watermark.enabled", \.watermark, help: "drop images with a watermark (LAION pwatermark, stock names and domains)"),
        .number("watermark.pwatermark_threshold", \.pwatermarkThreshold, rule: .within(0, 1),
                help: "a pwatermark score at or above this drops the image"),
        .strings("watermark.stock_names", \.stockNames, help: "stock-agency names that mark an image as watermarked"),
        .strings("watermark.stock_domains", \.stockDomains, help: "stock-agency domains that mark an image as watermarked"),
        .bool("watermark.vlm_judge", \.vlmJudge, help: "ask the model whether an image carries a watermark"),
        .string("watermark.vlm_model", \.vlmModel, help: "the judge's model (unset: llm.model)"),
        .bool("rights.enabled", \.rights, help: "drop images without a licence dsbuild may redistribute"),
        .bool("integrity.enabled", \.integrity, help: "decode every image fully; drop truncated or corrupt ones"),
        .int("integrity.max_pixels", \.integrityMaxPixels, rule: .atLeast(1), help: "refuse to decode images larger than this (decompression bombs)"),
        .bool("duplicates.enabled", \.duplicates, help: "keep one image of each group of near duplicates"),
        .int("duplicates.phash_distance", \.phashDistance, rule: phashDistanceRule,
             help: "pHash Hamming distance at or below which two images are duplicates"),
        .choice("duplicates.phash", \.phashMode, help: "exact (imagehash-compatible) or fast (DCT-scaled JPEG decode)"),
        .int("min_per_keyword", \.minPerKeyword, rule: minPerKeywordRule,
             help: "warn about keywords left with fewer kept images"),
        .int("concurrency", \.concurrency, rule: .atLeast(1), help: "images checked at once"),
    ]

    /// The per-image rules these settings switch on, in the order they are reported.
    /// - Parameter hashes: where the integrity rule puts exact pHashes its decodes yield (exact mode only).
    public func rules(analyzer: (any PixelAnalyzing)?, judge: (any WatermarkJudging)?,
                      hashes: PHashByproducts? = nil) -> [any FilterRule] {
        var rules: [any FilterRule] = []
        if let minShortSide { rules.append(MinShortSideRule(minimum: minShortSide)) }
        if let maxLongSide { rules.append(MaxLongSideRule(maximum: maxLongSide)) }
        if minPixels != nil || maxPixels != nil { rules.append(PixelCountRule(minimum: minPixels, maximum: maxPixels)) }
        if let (lo, hi) = aspectRatio { rules.append(AspectRatioRule(minimum: lo, maximum: hi)) }
        if minBytes != nil || maxBytes != nil { rules.append(ByteSizeRule(minimum: minBytes, maximum: maxBytes)) }
        if let formats { rules.append(FormatRule(allowed: formats)) }
        if dropAnimated { rules.append(AnimatedRule()) }
        if watermark {
            rules.append(WatermarkRule(pwatermarkThreshold: pwatermarkThreshold, stockNames: stockNames,
                                       stockDomains: stockDomains, judge: vlmJudge ? judge : nil))
        }
        if rights { rules.append(RightsRule()) }
        if integrity, let analyzer {
            rules.append(IntegrityRule(analyzer: analyzer, maxPixels: integrityMaxPixels,
                                       hashes: duplicates && phashMode == .exact ? hashes : nil))
        }
        return rules
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
