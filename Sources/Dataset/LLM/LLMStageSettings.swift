/// The settings of a stage that asks a model (`describe`, `mcq`): a sampling value its own section leaves unset
/// (`describe.model`, `mcq.temperature`, …) comes from the recipe's `llm:` section, held here as `llm`.
///
/// The stage keeps its own values as optionals and resolves them against `llm` in computed properties
/// (`ownModel ?? llm.model`), so the cascade is one typed expression per value, and its keys record the
/// resolved value (`SettingKey.rendered(as:)`): a run records the model it actually asked.
public protocol LLMStageSettings: RecipeSettings {
    /// The recipe's `llm:` section, the fallback of every sampling value.
    var llm: LLMSettings { get set }
    /// The stage's own `model`, `temperature` and `concurrency` (nil: unset, `llm:`'s value applies).
    var ownModel: String? { get set }
    var ownTemperature: Double? { get set }
    var ownConcurrency: Int? { get set }
}

extension LLMStageSettings {
    /// The model the stage asks: its own, else `llm.model`.
    public var model: String {
        get { ownModel ?? llm.model }
        set { ownModel = newValue }
    }
    /// Its own temperature, else `llm.temperature`.
    public var temperature: Double {
        get { ownTemperature ?? llm.temperature }
        set { ownTemperature = newValue }
    }
    /// Its own requests in flight, else `llm.concurrency`.
    public var concurrency: Int {
        get { ownConcurrency ?? llm.concurrency }
        set { ownConcurrency = newValue }
    }
}

extension LLMStageSettings {
    /// Defaults ← the recipe's `llm:` section (the fallbacks) ← the stage's own section.
    public init(recipe: Recipe) {
        self.init()
        llm = LLMSettings(recipe: recipe)
        apply(recipe)
    }
}

extension LLMStageSettings {
    /// What a run of the stage records: its section's keys as applied (an unset sampling value shows the `llm:`
    /// value it fell back to) and the `llm:` section it asked through.
    public var runRecord: AnyPlain {
        guard case .map(let entries) = record else { return record }
        return .map(entries + [("llm", llm.record)])
    }

    /// The run record as JSON text.
    public var runRecordJSON: String { JSONText.encode(runRecord) }
}
