import Dataset
import Foundation

/// The filter's settings: defaults (the VLV recipe: short side ≥ 512, aspect 0.5–2.0, no watermark), then the
/// recipe's `filter:` section, then command-line overrides.
public struct FilterSettings: Sendable {
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

    /// Reads the recipe's `filter:` section over the defaults.
    public init(recipe: Recipe) {
        self.init()
        if let v = recipe.int("filter.min_short_side") { minShortSide = v > 0 ? v : nil }
        if let v = recipe.int("filter.max_long_side") { maxLongSide = v }
        if let v = recipe.int("filter.min_pixels") { minPixels = v }
        if let v = recipe.int("filter.max_pixels") { maxPixels = v }
        if let v = recipe.doubles("filter.aspect_ratio"), v.count == 2 { aspectRatio = (v[0], v[1]) }
        if let v = recipe.int("filter.min_bytes") { minBytes = v }
        if let v = recipe.int("filter.max_bytes") { maxBytes = v }
        if let v = recipe.strings("filter.formats") { formats = v }
        if let v = recipe.string("filter.animated") { dropAnimated = v == "drop" }
        if let v = recipe.bool("filter.watermark.enabled") { watermark = v }
        if let v = recipe.double("filter.watermark.pwatermark_threshold") { pwatermarkThreshold = v }
        if let v = recipe.strings("filter.watermark.stock_names") { stockNames = v }
        if let v = recipe.strings("filter.watermark.stock_domains") { stockDomains = v }
        if let v = recipe.bool("filter.watermark.vlm_judge") { vlmJudge = v }
        if let v = recipe.bool("filter.rights.enabled") { rights = v }
        if let v = recipe.bool("filter.integrity.enabled") { integrity = v }
        if let v = recipe.int("filter.integrity.max_pixels") { integrityMaxPixels = v }
        if let v = recipe.bool("filter.duplicates.enabled") { duplicates = v }
        if let v = recipe.int("filter.duplicates.phash_distance") { phashDistance = v }
        if let v = recipe.string("filter.duplicates.phash").flatMap(PHashMode.init(rawValue:)) { phashMode = v }
        if let v = recipe.int("filter.min_per_keyword") { minPerKeyword = v }
        if let v = recipe.int("filter.concurrency") { concurrency = max(1, v) }
    }

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

    /// A JSON rendering for the run record.
    public var json: String {
        JSONText.encodeObject([
            "min_short_side": minShortSide as Any? ?? NSNull(), "max_long_side": maxLongSide as Any? ?? NSNull(),
            "aspect_ratio": aspectRatio.map { [$0.0, $0.1] } as Any? ?? NSNull(),
            "animated": dropAnimated ? "drop" : "keep", "watermark": watermark,
            "pwatermark_threshold": pwatermarkThreshold, "vlm_judge": vlmJudge, "rights": rights,
            "integrity": integrity, "duplicates": duplicates, "phash_distance": phashDistance,
            "phash": phashMode.rawValue,
            "min_per_keyword": minPerKeyword,
        ])
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
