import Dataset

/// The `filter:` section of a recipe.
public enum FilterRecipe {
    public static let section = RecipeSection("filter", [
        "min_short_side": .int,
        "max_long_side": .int,
        "min_pixels": .int,
        "max_pixels": .int,
        "aspect_ratio": .list(.number),
        "min_bytes": .int,
        "max_bytes": .int,
        "formats": .list(.string),
        "animated": .choice(["drop", "keep"]),
        "watermark": .map([
            "enabled": .bool,
            "pwatermark_threshold": .number,
            "stock_names": .list(.string),
            "stock_domains": .list(.string),
            "vlm_judge": .bool,
            "vlm_model": .string,
        ]),
        "rights": .map(["enabled": .bool]),
        "integrity": .map(["enabled": .bool, "max_pixels": .int]),
        "duplicates": .map(["enabled": .bool, "phash_distance": .int, "phash": .choice(["exact", "fast"]), "across_keywords": .bool]),
        "min_per_keyword": .int,
        "rules": .list(.string),
        "concurrency": .int,
    ])
}
