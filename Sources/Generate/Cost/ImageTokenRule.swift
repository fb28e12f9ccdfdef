/// How many prompt tokens an image part costs, by the provider's documented tile rule: the one table of it.
///
/// OpenAI (GPT-4o family, GPT-4.1, o-series): `detail: low` is the base alone; `high` fits the image in 2048×2048,
/// scales its short side down to 768, and adds a per-tile cost for each 512-px tile. `auto` is counted as `high`
/// (the provider picks by size; the larger count is the safe side for a budget). GPT-4o mini bills its images at a
/// larger base and tile (2833 + 5667 per tile), so its tokens are worth the same money as GPT-4o's.
public struct ImageTokenRule: Sendable, Equatable {
    public var base: Int
    public var perTile: Int

    /// The rule of a model: GPT-4o mini's multiplier, else the GPT-4o rule.
    public static func of(model: String) -> ImageTokenRule {
        let name = model.lowercased()
        if name.contains("gpt-4o-mini") { return ImageTokenRule(base: 2833, perTile: 5667) }
        return ImageTokenRule(base: 85, perTile: 170)
    }

    /// The tokens of a `width`×`height` image sent with `detail` (`low`, `high`, `auto`, or nil when left out).
    public func tokens(width: Int, height: Int, detail: String?) -> Int {
        if detail == "low" { return base }
        var (w, h) = (Double(max(width, 1)), Double(max(height, 1)))
        let fit = min(1, 2048 / max(w, h))
        (w, h) = (w * fit, h * fit)
        let short = min(w, h)
        if short > 768 { (w, h) = (w * 768 / short, h * 768 / short) }
        let tiles = Int((w / 512).rounded(.up)) * Int((h / 512).rounded(.up))
        return base + perTile * tiles
    }
}
