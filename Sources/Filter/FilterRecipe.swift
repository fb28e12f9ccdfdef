import Dataset

/// The `filter:` section of a recipe.
public enum FilterRecipe {
    /// `filter.aspect_ratio` and `--aspect-ratio`: [MIN, MAX], 0 < MIN ≤ MAX.
    public static let aspectRatioRule = ValueRule.positiveRange
    /// Size limits (`min_short_side`, `--min-short-side`, …): 0 turns a limit off, negative is an error.
    public static let sizeLimitRule = ValueRule.atLeast(0)
    /// `duplicates.phash_distance` and `--phash-distance`: a Hamming distance between 64-bit hashes.
    public static let phashDistanceRule = ValueRule.within(0, 64)
    /// `min_per_keyword` and `--min-per-keyword`.
    public static let minPerKeywordRule = ValueRule.atLeast(0)

    public static let section = RecipeSection("filter", [
        "min_short_side": .checked(.int, sizeLimitRule),
        "max_long_side": .checked(.int, sizeLimitRule),
        "min_pixels": .checked(.int, sizeLimitRule),
        "max_pixels": .checked(.int, sizeLimitRule),
        "aspect_ratio": .checked(.list(.number), aspectRatioRule),
        "min_bytes": .checked(.int, sizeLimitRule),
        "max_bytes": .checked(.int, sizeLimitRule),
        "formats": .list(.string),
        "animated": .choice(["drop", "keep"]),
        "watermark": .map([
            "enabled": .bool,
            "pwatermark_threshold": .checked(.number, .within(0, 1)),
            "stock_names": .list(.string),
            "stock_domains": .list(.string),
            "vlm_judge": .bool,
            "vlm_model": .string,
        ]),
        "rights": .map(["enabled": .bool]),
        "integrity": .map(["enabled": .bool, "max_pixels": .checked(.int, .atLeast(1))]),
        "duplicates": .map(["enabled": .bool, "phash_distance": .checked(.int, phashDistanceRule), "phash": .choice(["exact", "fast"])]),
        "min_per_keyword": .checked(.int, minPerKeywordRule),
        "concurrency": .checked(.int, .atLeast(1)),
    ])
}
