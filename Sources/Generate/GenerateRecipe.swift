import Dataset

/// The `eval:` section of a recipe (`describe:` and `mcq:` are `DescribeSettings` and `MCQSettings`).
public enum GenerateRecipe {
    /// Requests in flight (`eval.concurrency`): the rule every stage's `concurrency` shares.
    public static let concurrencyRule = LLMSettings.concurrencyRule

    public static let eval = RecipeSection("eval", [
        "model": .string,
        "endpoint": .string,
        "conditions": .list(.choice(["with-image", "no-image", "description-only"])),
        "circular": .bool,
        "questions": .string,
        "images": .string,
        "split": .string,
        "origin": .string,
        "max_tokens": .checked(.int, .atLeast(1)),
        "concurrency": .checked(.int, concurrencyRule),
        "label": .string,
    ])
}
