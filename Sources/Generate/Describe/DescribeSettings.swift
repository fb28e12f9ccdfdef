import Dataset
import Foundation

/// What `describe` does: defaults, then the recipe's `llm:` section (the fallbacks of the sampling values),
/// then its `describe:` section, then command-line options.
public struct DescribeSettings: LLMStageSettings {
    public static let sectionName = "describe"

    public var aspects: [String] = ["visual"]
    public var modes: [String] = ["text-only"]
    /// Output languages; empty means each keyword's own `language` (or English).
    public var languages: [String] = []
    public var perKeyword = 1
    public var imagesPerKeyword = 1
    /// `describe.model`; nil: `llm.model`.
    public var ownModel: String?
    /// `describe.temperature`; nil: `llm.temperature`.
    public var ownTemperature: Double?
    /// `describe.max_tokens`; nil: `llm.max_tokens`, else `defaultMaxTokens`.
    public var ownMaxTokens: Int?
    /// `describe.concurrency`; nil: `llm.concurrency`.
    public var ownConcurrency: Int?
    /// Where `<aspect>.txt` templates override the built-in prompts (`describe.templates_dir`, else the
    /// workspace's `prompts/describe/` when it exists).
    public var templatesDirectory: URL?
    /// Length bounds per aspect over each `Aspect`'s own (`describe.min_chars.<aspect>`, `max_chars`).
    public var minChars: [String: Int] = [:]
    public var maxChars: [String: Int] = [:]
    public var dedupThreshold = 0.8
    /// Answers asked for per description: a rejected one (too short, wrong language, …) is re-asked with the
    /// reason fed back until this many answers were given (`describe.max_attempts`).
    public var maxAttempts = 3
    /// `describe.verify`: each description is checked by a vision model before it is accepted — an image-grounded
    /// one against its image, a text-only one against the accepted image-grounded descriptions of its keyword
    /// (`DescriptionVerifier`); an unfaithful one is re-asked with the claims fed back, up to `maxAttempts`, then
    /// rejected (`unfaithful`).
    public var verify = false
    /// `describe.verify_model`; nil: the describe model.
    public var ownVerifyModel: String?
    public var refresh = false
    /// The recipe's `llm:` section: what an unset sampling value falls back to.
    public var llm = LLMSettings()

    public init() {}

    /// Reads the recipe, then uses the workspace's `prompts/describe/` when the recipe names no templates folder;
    /// command-line values are applied by the caller afterwards.
    public init(recipe: Recipe, workspaceRoot: URL) {
        self.init(recipe: recipe)
        if templatesDirectory == nil {
            let defaultDir = workspaceRoot.appendingPathComponent("prompts/describe")
            if FileManager.default.fileExists(atPath: defaultDir.path) { templatesDirectory = defaultDir }
        }
    }

    // MARK: Resolved against `llm:`

    /// The completion limit when neither `describe.max_tokens` nor `llm.max_tokens` is set.
    public static let defaultMaxTokens = 600

    public var maxTokens: Int {
        get { ownMaxTokens ?? llm.maxTokens ?? Self.defaultMaxTokens }
        set { ownMaxTokens = newValue }
    }
    /// `llm.seed` (describe has no seed of its own).
    public var seed: Int {
        get { llm.seed }
        set { llm.seed = newValue }
    }
    /// The verifier's model: `describe.verify_model`, else the describe model.
    public var verifyModel: String {
        get { ownVerifyModel ?? model }
        set { ownVerifyModel = newValue }
    }
    /// `llm.image_max_side`.
    public var maxImageSide: Int {
        get { llm.imageMaxSide }
        set { llm.imageMaxSide = newValue }
    }

    /// Variant `v` of a keyword: its own seed and a slightly higher temperature, so variants differ.
    public func sampling(variant: Int) -> (seed: Int, temperature: Double) {
        (seed + variant, min(temperature + 0.1 * Double(variant), 1.5))
    }

    /// The length bounds an aspect's descriptions must meet: the recipe's, else the aspect's own.
    public func lengthBounds(of aspect: String) -> (min: Int, max: Int) {
        let declared = Aspect.resolved(aspect)
        return (minChars[aspect] ?? declared.minChars, maxChars[aspect] ?? declared.maxChars)
    }

    // MARK: Keys

    /// `describe.per_keyword`, `describe.images_per_keyword` and `--per-keyword`.
    public static let countRule = ValueRule.atLeast(1)
    /// The modes `describe.modes` and `--modes` accept.
    public static let modeNames = ["image-grounded", "text-only"]

    public static let keys: [SettingKey<DescribeSettings>] = [
        .strings("aspects", \.aspects,
                 help: "aspects to describe: \(Aspect.promptable.joined(separator: ", ")), or a template of templates_dir"),
        .strings("modes", \.modes, element: .choice(modeNames), help: "image-grounded (each kept image attached) and/or text-only"),
        .strings("languages", \.languages, help: "output languages (unset: each keyword's language, else en)"),
        .int("per_keyword", \.perKeyword, rule: countRule, help: "descriptions per keyword, aspect, mode and language (variants)"),
        .int("images_per_keyword", \.imagesPerKeyword, rule: countRule, help: "kept images per keyword described in image-grounded mode"),
        SettingKey.string("model", \.ownModel, help: "the model (unset: llm.model)")
            .rendered { .string($0.model) },
        SettingKey.number("temperature", \.ownTemperature, rule: LLMSettings.temperatureRule,
                          help: "sampling temperature of variant 0 (unset: llm.temperature)")
            .rendered { .double($0.temperature) },
        SettingKey.int("max_tokens", \.ownMaxTokens, rule: .atLeast(1),
                       help: "completion token limit (unset: llm.max_tokens, else \(defaultMaxTokens))")
            .rendered { .int($0.maxTokens) },
        .file("templates_dir", \.templatesDirectory,
              help: "folder of <aspect>.txt prompt templates, relative to the recipe (unset: the workspace's prompts/describe/)"),
        lengthKey("min_chars", \.minChars, help: "shortest accepted description per aspect, in characters (over the aspect's own)"),
        lengthKey("max_chars", \.maxChars, help: "longest accepted description per aspect, in characters (over the aspect's own)"),
        .number("dedup_threshold", \.dedupThreshold, rule: .within(0, 1),
                help: "word-shingle Jaccard similarity at or above which a description is a near duplicate"),
        SettingKey.int("concurrency", \.ownConcurrency, rule: LLMSettings.concurrencyRule,
                       help: "requests in flight (unset: llm.concurrency)")
            .rendered { .int($0.concurrency) },
        .int("max_attempts", \.maxAttempts, rule: .atLeast(1),
             help: "answers asked per description; a rejected one is re-asked with the reason"),
        .bool("verify", \.verify,
              help: "check each description with the verifier model (image-grounded: against its image; text-only: against the image-grounded descriptions of its keyword); an unfaithful one is re-asked with the unsupported claims, then rejected"),
        SettingKey.string("verify_model", \.ownVerifyModel, help: "the verifier's model (unset: the describe model)")
            .rendered { .string($0.verifyModel) },
    ]

    /// A mapping of aspect names to character counts.
    private static func lengthKey(_ path: String, _ keyPath: WritableKeyPath<DescribeSettings, [String: Int]>,
                                  help: String) -> SettingKey<DescribeSettings> {
        .custom(path, .dictionary(.checked(.int, .atLeast(0))), help: help,
                apply: { s, v in
                    for (aspect, value) in v.entries ?? [] { if let n = value.intValue { s[keyPath: keyPath][aspect] = n } }
                },
                render: { s in .map(s[keyPath: keyPath].sorted { $0.key < $1.key }.map { ($0.key, .int($0.value)) }) })
    }
}
