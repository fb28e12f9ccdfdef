import Dataset
import Foundation

/// What `mcq` does: defaults, then the recipe's `llm:` section (the fallbacks of the sampling values), then its
/// `mcq:` section (the split's keys included, from `SplitSettings`), then command-line options.
public struct MCQSettings: LLMStageSettings {
    public static let sectionName = "mcq"

    public var types: [Int] = [1, 2]
    public var perImage = 1
    public var perKeyword = 1
    public var distractors: Distractors = .random
    public var taxonomyColumn: String?
    public var type1Template = "What is the name of the {category} in this image?"
    public var language = "en"
    /// The question file format the dataset follows: what `mcq --export` writes without `--format`.
    public var style: QuestionFileFormat = .dsbuild
    /// `mcq.model`; nil: `llm.model`.
    public var ownModel: String?
    /// `mcq.temperature`; nil: `llm.temperature`.
    public var ownTemperature: Double?
    /// `mcq.concurrency`; nil: `llm.concurrency`.
    public var ownConcurrency: Int?
    public var maxAttempts = 3
    /// How the experiment is split (`mcq.split_by`, `mcq.test_fraction`, `mcq.test_images_per_keyword`, `mcq.seed`):
    /// decided once, in `ExperimentSplit`; Type 2 questions draw their split from it.
    public var split = SplitSettings()
    /// Re-split and re-derive every generated question, asking the model again instead of answering from the cache.
    public var refresh = false
    public var blindCheck = false
    public var blindRepeats = 3
    public var dropLeaky = false
    /// `mcq.verify`: each accepted generated question is answered by a verifier model that is not shown the key
    /// (`AnswerKeyStage`); one whose key it contradicts, or that it finds ambiguous, is `disputed`.
    public var verify = false
    /// `mcq.verify_model`; nil: the mcq model.
    public var ownVerifyModel: String?
    /// `mcq.keep_disputed`: disputed questions stay accepted (their verdicts still stored and counted).
    public var keepDisputed = false
    /// The recipe's `llm:` section: what an unset sampling value falls back to.
    public var llm = LLMSettings()

    /// How Type 1 distractors are drawn (`mcq.distractors`, `--distractors`).
    public enum Distractors: String, Sendable, CaseIterable {
        /// Sibling keywords of the same category, shuffled.
        case random
        /// Same `taxonomy_column` value first, then the most similar descriptions.
        case hard
    }

    public init() {}

    // MARK: Resolved against `llm:` and the split

    /// Seed for answer placement, distractors and the Type 2 split draw: `mcq.seed`, the split's seed (not
    /// `llm.seed`: a changed endpoint seed must not move the split).
    public var seed: Int {
        get { split.seed }
        set { split.seed = newValue }
    }

    /// The verifier's model: `mcq.verify_model`, else the mcq model.
    public var verifyModel: String {
        get { ownVerifyModel ?? model }
        set { ownVerifyModel = newValue }
    }

    // MARK: Keys

    /// `mcq.per_image`, `mcq.per_keyword`, `--per-image` and `--per-keyword`.
    public static let countRule = ValueRule.atLeast(1)
    /// `mcq.blind_repeats` and `--blind-repeats`.
    public static let blindRepeatsRule = ValueRule.atLeast(1)
    /// `mcq.types` and `--types`: question types 1 (recognition) and 2 (reasoning).
    public static let typesRule = ValueRule("a list of 1 and 2") { value in
        let types = (value.listValue ?? []).compactMap(\.intValue)
        if types.isEmpty { return "must list at least one question type (1, 2)" }
        let bad = types.filter { ![1, 2].contains($0) }
        return bad.isEmpty ? nil : "must list question types 1 and 2 only, not \(bad.map(String.init).joined(separator: ", "))"
    }

    public static let keys: [SettingKey<MCQSettings>] = [
        .custom("types", .checked(.list(.int), typesRule), help: "question types to make: 1 (recognition), 2 (reasoning)",
                apply: { s, v in s.types = v.listValue?.compactMap(\.intValue) ?? s.types },
                render: { .list($0.types.map { .int($0) }) }),
        .int("per_image", \.perImage, rule: countRule, help: "Type 1 questions per kept image"),
        .int("per_keyword", \.perKeyword, rule: countRule, help: "Type 2 questions per keyword"),
        .choice("distractors", \.distractors, help: "Type 1 distractors: random siblings, or hard (same taxonomy value, similar descriptions first)"),
        .string("taxonomy_column", \.taxonomyColumn, help: "the keyword file column hard distractors match first"),
        .string("type1_template", \.type1Template, help: "the Type 1 stem; {category} is the keyword's category"),
        .string("language", \.language, help: "the language Type 2 questions are written in"),
        .choice("style", \.style, help: "the question file format the dataset follows (mcq --export without --format)"),
        SettingKey.string("model", \.ownModel, help: "the Type 2 and blind-check model (unset: llm.model)")
            .rendered { .string($0.model) },
        SettingKey.number("temperature", \.ownTemperature, rule: LLMSettings.temperatureRule,
                          help: "Type 2 sampling temperature (unset: llm.temperature)")
            .rendered { .double($0.temperature) },
        .int("max_attempts", \.maxAttempts, rule: .atLeast(1), help: "answers asked per Type 2 question; bad output is re-asked with the reason"),
        .bool("blind_check", \.blindCheck, help: "ask each question without its image; flag those always answered right"),
        .int("blind_repeats", \.blindRepeats, rule: blindRepeatsRule, help: "blind answers per question (all right: leaky)"),
        .bool("drop_leaky", \.dropLeaky, help: "reject the questions the blind check flags"),
        .bool("verify", \.verify,
              help: "have the verifier model answer each question without its key (image; Type 2 also its descriptions); a contradicted or ambiguous key is disputed"),
        SettingKey.string("verify_model", \.ownVerifyModel, help: "the answer-key verifier's model (unset: the mcq model)")
            .rendered { .string($0.verifyModel) },
        .bool("keep_disputed", \.keepDisputed,
              help: "keep disputed questions in training and test (default: out of shards, exports, question files and eval)"),
        SettingKey.int("concurrency", \.ownConcurrency, rule: LLMSettings.concurrencyRule,
                       help: "requests in flight (unset: llm.concurrency)")
            .rendered { .int($0.concurrency) },
    ] + SplitSettings.keys.map { $0.lifted(into: \.split, under: "") }
}
