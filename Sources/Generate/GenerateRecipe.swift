import Dataset

/// The `describe:`, `mcq:` and `eval:` sections of a recipe.
public enum GenerateRecipe {
    public static let describe = RecipeSection("describe", [
        "aspects": .list(.string),
        "modes": .list(.choice(["image-grounded", "text-only"])),
        "languages": .list(.string),
        "per_keyword": .int,
        "images_per_keyword": .int,
        "model": .string,
        "temperature": .number,
        "max_tokens": .int,
        "templates_dir": .string,
        "min_chars": .dictionary(.int),
        "max_chars": .dictionary(.int),
        "dedup_threshold": .number,
        "concurrency": .int,
        "max_attempts": .int,
    ])

    public static let mcq = RecipeSection("mcq", [
        "types": .list(.int),
        "per_image": .int,
        "per_keyword": .int,
        "distractors": .choice(["random", "hard"]),
        "taxonomy_column": .string,
        "type1_template": .string,
        "language": .string,
        "style": .choice(["k-viscuit", "butterfly", "dsbuild"]),
        "model": .string,
        "temperature": .number,
        "max_attempts": .int,
        "blind_check": .bool,
        "blind_repeats": .int,
        "drop_leaky": .bool,
        "test_fraction": .number,
        "split_by": .choice(["image", "keyword"]),
        "test_images_per_keyword": .int,
        "seed": .int,
        "concurrency": .int,
    ])

    public static let eval = RecipeSection("eval", [
        "model": .string,
        "endpoint": .string,
        "conditions": .list(.choice(["with-image", "no-image", "description-only"])),
        "circular": .bool,
        "questions": .string,
        "images": .string,
        "split": .string,
        "origin": .string,
        "max_tokens": .int,
        "concurrency": .int,
        "label": .string,
    ])
}
