import Dataset

/// A per-image rule declared once beside its code: its stable name, its own recipe keys with their defaults, and
/// how it is built from them (nil when they switch it off). Listed once in `FilterRules.all`; the recipe's
/// `filter:` keys, `recipe --schema`, the run record and `FilterSettings.rules(…)` all come from that list.
public protocol RegisteredRule: FilterRule {
    /// The rule's own settings.
    associatedtype Settings: RuleSettings

    /// The stable snake_case name recorded with each decision and counted by `status`.
    static var ruleName: String { get }
    /// The rule these settings ask for, or nil when they switch it off (or `context` lacks what it needs).
    static func make(_ settings: Settings, context: RuleContext) -> Self?
}

extension RegisteredRule {
    public var name: String { Self.ruleName }
}

/// One rule's settings, declared as `SettingKey`s relative to the `filter:` section (`min_short_side`,
/// `watermark.enabled`). `init()` holds the defaults, which are also what `recipe --schema` shows.
public protocol RuleSettings: Sendable {
    /// Every key of the rule.
    static var keys: [SettingKey<Self>] { get }
    /// The defaults.
    init()
}

/// What a rule may need besides its settings: the filter's collaborators, resolved by the command.
public struct RuleContext: Sendable {
    /// Decodes pixels (the integrity rule); nil where no codec is wired.
    public let analyzer: (any PixelAnalyzing)?
    /// The VLM watermark judge; nil where none is configured.
    public let judge: (any WatermarkJudging)?
    /// Where exact pHashes a decode yields on the way go; nil when duplicate grouping does not want them.
    public let hashes: PHashByproducts?
    /// The relevance judge; nil where none is configured.
    public let relevance: (any RelevanceJudging)?
    /// The dataset's keywords, ranked as confusable siblings; loaded only when a rule needs them.
    public let siblings: KeywordSiblings?
    /// The stored embeddings of `filter.embeddings.model` (`clip_rank`); nil where no model is configured.
    public let embeddings: FilterEmbeddings?

    public init(analyzer: (any PixelAnalyzing)? = nil, judge: (any WatermarkJudging)? = nil, hashes: PHashByproducts? = nil,
                relevance: (any RelevanceJudging)? = nil, siblings: KeywordSiblings? = nil, embeddings: FilterEmbeddings? = nil) {
        self.analyzer = analyzer
        self.judge = judge
        self.hashes = hashes
        self.relevance = relevance
        self.siblings = siblings
        self.embeddings = embeddings
    }
}

extension FilterSettings {
    /// One registered rule's settings (`settings[MinShortSideRule.self].minimum = 700`); its defaults until set.
    public subscript<Rule: RegisteredRule>(_ rule: Rule.Type) -> Rule.Settings {
        get { self[rule: Rule.ruleName] }
        set { self[rule: Rule.ruleName] = newValue }
    }

    /// The settings stored under a rule's name (the key path the rule's recipe keys are lifted through).
    subscript<Settings: RuleSettings>(rule name: String) -> Settings {
        get { ruleSettings[name] as? Settings ?? Settings() }
        set { ruleSettings[name] = newValue }
    }
}

extension RegisteredRule {
    /// The rule's keys as keys of the `filter:` section.
    static var filterKeys: [SettingKey<FilterSettings>] {
        let settings: WritableKeyPath<FilterSettings, Settings> = \FilterSettings.[rule: ruleName]
        return Settings.keys.map { $0.lifted(into: settings, under: "") }
    }

    /// The rule as `settings` configure it, or nil when they switch it off.
    static func build(from settings: FilterSettings, context: RuleContext) -> (any FilterRule)? {
        make(settings[Self.self], context: context)
    }
}
