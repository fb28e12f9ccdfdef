import Dataset

/// The `describe:` and `mcq:` sections of a recipe.
public enum GenerateRecipe {
    /// Requests in flight (`*.concurrency`, `llm.concurrency`, `--concurrency`).
    public static let concurrencyRule = ValueRule.atLeast(1)
    /// Items per keyword or image (`per_keyword`, `per_image`, `--per-keyword`).
    public static let countRule = ValueRule.atLeast(1)
    /// `mcq.test_fraction` and `--test-fraction`.
    public static let testFractionRule = ValueRule.fraction
    /// Sampling temperature.
    public static let temperatureRule = ValueRule.within(0, 2)

    public static let describe = RecipeSection("describe", [
        "aspects": .list(.string),
        "modes": .list(.choice(["image-grounded", "text-only"])),
        "languages": .list(.string),
        "per_keyword": .checked(.int, countRule),
        "images_per_keyword": .checked(.int, countRule),
        "model": .string,
        "temperature": .checked(.number, temperatureRule),
        "max_tokens": .checked(.int, .atLeast(1)),
        "templates_dir": .string,
        "min_chars": .dictionary(.int),
        "max_chars": .dictionary(.int),
        "dedup_threshold": .checked(.number, .within(0, 1)),
        "concurrency": .checked(.int, concurrencyRule),
        "max_attempts": .checked(.int, .atLeast(1)),
    ])

    public static let mcq = RecipeSection("mcq", [
        "types": .list(.int),
        "per_image": .checked(.int, countRule),
        "per_keyword": .checked(.int, countRule),
        "distractors": .choice(["random", "hard"]),
        "taxonomy_column": .string,
        "type1_template": .string,
        "language": .string,
        // The question file format the dataset follows: the default of `mcq --export --format`.
        "style": .choice(QuestionFileFormat.allCases.map(\.rawValue)),
        "model": .string,
        "temperature": .checked(.number, temperatureRule),
        "max_attempts": .checked(.int, .atLeast(1)),
        "blind_check": .bool,
        "blind_repeats": .checked(.int, .atLeast(1)),
        "drop_leaky": .bool,
        "test_fraction": .checked(.number, testFractionRule),
        "split_by": .choice(["image", "keyword"]),
        "test_images_per_keyword": .checked(.int, countRule),
        "seed": .int,
        "concurrency": .checked(.int, concurrencyRule),
    ])
}
