import Dataset
import Foundation

/// The recipe's `eval:` section: which model is scored, on which questions, under which conditions. Command-line
/// options override it field by field.
public struct EvalSection: RecipeSettings {
    public static let sectionName = "eval"

    public var model: String?
    public var endpoint: String?
    public var conditions: [EvalCondition] = [.withImage]
    public var circular = false
    /// A question file (relative to the recipe's folder); unset: the workspace's questions.
    public var questions: String?
    public var questionsFormat: QuestionFileFormat?
    /// Where a question file's images resolve; unset: `images/` beside the file.
    public var images: String?
    public var split = "test"
    public var origin = "generated"
    public var maxTokens = 3
    public var concurrency = 4
    public var label: String?

    public init() {}

    /// `split` and `--split`.
    public static let splitRule = ValueRule("train or test") { value in
        guard let text = value.stringValue else { return nil }
        return ["train", "test"].contains(text) ? nil : "must be train or test, not \(text)"
    }

    public static let keys: [SettingKey<EvalSection>] = [
        .string("model", \.model, rule: .nonEmpty, help: "the model name sent to the endpoint"),
        .string("endpoint", \.endpoint, rule: .httpURL, help: "the OpenAI-compatible base URL (unset: $OPENAI_BASE_URL)"),
        .choices("conditions", \.conditions, help: "every condition scored and stored: with-image, no-image, description-only"),
        .bool("circular", \.circular, help: "CircularEval: right only under every rotation of the options"),
        .string("questions", \.questions, help: "a question file to score instead of the workspace's (relative to the recipe)"),
        .choice("questions_format", \.questionsFormat, help: "the question file's format (unset: detected from its fields)"),
        .string("images", \.images, help: "where the question file's image paths resolve (unset: images/ beside it)"),
        .string("split", \.split, rule: splitRule, help: "the workspace split scored"),
        .string("origin", \.origin, help: "the workspace questions scored: generated, an imported origin (k-viscuit, …) or all"),
        .int("max_tokens", \.maxTokens, rule: .atLeast(1), help: "completion tokens per answer"),
        .int("concurrency", \.concurrency, rule: LLMSettings.concurrencyRule, help: "questions in flight"),
        .string("label", \.label, help: "the result's name in eval --compare"),
    ]
}
