import Dataset
import Foundation

/// Drops images that do not show their keyword: a vision model sees the image and a multiple-choice list — the
/// keyword, up to `siblings` confusable keywords of the dataset (`KeywordSiblings`) and
/// `RelevanceConfusions.noneOption` — and names the option it sees. The keyword and its siblings are shuffled per
/// image (seeded by the image and keyword, so the same request is cached on every rerun and the keyword's
/// position cannot be guessed); the none option comes last. Kept only when the judge chose the keyword with
/// confidence ≥ `min_confidence`; the chosen option is the decision's value, so the confusion table can be
/// counted (`RelevanceConfusions`).
public struct RelevanceRule: RegisteredRule {
    public static let ruleName = RelevanceConfusions.rule

    /// `filter.relevance.*`: off by default (it costs a model call per image).
    public struct Settings: RuleSettings {
        public var enabled = false
        public var siblings = 4
        public var minConfidence = 0.5
        /// The judge's model; nil asks `llm.model`.
        public var model: String?
        public var taxonomyColumns = RelevanceRule.defaultTaxonomyColumns

        public init() {}

        public static let keys: [SettingKey<Settings>] = [
            .bool("relevance.enabled", \.enabled, help: "ask the vision model whether each image shows its keyword rather than a sibling"),
            .int("relevance.siblings", \.siblings, rule: .within(0, 20), help: "confusable keywords offered beside the keyword"),
            .number("relevance.min_confidence", \.minConfidence, rule: .within(0, 1),
                    help: "the judge's confidence at or above which an image shown as its keyword is kept"),
            .string("relevance.model", \.model, help: "the relevance judge's model (unset: llm.model)"),
            .strings("relevance.taxonomy_columns", \.taxonomyColumns,
                     help: "keyword-file columns naming a taxon, most specific first: siblings sharing one are offered first"),
        ]
    }

    public static let defaultTaxonomyColumns = ["genus", "subfamily", "family", "order"]

    /// The rule when `relevance.enabled` and the command wired a judge and the keyword list.
    public static func make(_ settings: Settings, context: RuleContext) -> RelevanceRule? {
        guard settings.enabled, let judge = context.relevance, let siblings = context.siblings else { return nil }
        return RelevanceRule(judge: judge, siblings: siblings, siblingCount: settings.siblings,
                             minConfidence: settings.minConfidence, taxonomyColumns: settings.taxonomyColumns)
    }

    public let judge: any RelevanceJudging
    public let siblings: KeywordSiblings
    public let siblingCount: Int
    public let minConfidence: Double
    public let taxonomyColumns: [String]

    public init(judge: any RelevanceJudging, siblings: KeywordSiblings, siblingCount: Int = 4, minConfidence: Double = 0.5,
                taxonomyColumns: [String] = RelevanceRule.defaultTaxonomyColumns) {
        self.judge = judge
        self.siblings = siblings
        self.siblingCount = siblingCount
        self.minConfidence = minConfidence
        self.taxonomyColumns = taxonomyColumns
    }

    public var asksModel: Bool { true }

    public var settingsDescription: String {
        "\(judge.identity)|siblings=\(siblingCount)|min=\(minConfidence)|taxonomy=\(taxonomyColumns.joined(separator: ","))"
    }

    /// The options shown for one image: the keyword and its siblings in a seeded order, then the none option.
    public func options(for s: FilterSubject) -> [String] {
        var generator = SeededGenerator(text: "relevance|\(s.sha256)|\(s.keyword)")
        // Not an option twice: a sibling that is the keyword in another Unicode normalisation (the keyword table
        // holds both, its UNIQUE compares bytes) would make the keyword's own choice ambiguous.
        let others = siblings.siblings(of: s.keywordID, count: siblingCount)
            .filter { $0 != RelevanceConfusions.noneOption && $0 != s.keyword }
        let named = ([s.keyword] + others).shuffled(using: &generator)
        return named + [RelevanceConfusions.noneOption]
    }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        let threshold = ">= \(formatNumber(minConfidence))"
        if s.keyword == RelevanceConfusions.noneOption {
            return .drop("keyword=none_option", threshold, "the keyword is the text of the judge's none option; rename it")
        }
        let verdict: RelevanceVerdict
        do {
            verdict = try await judge.judge(imageAt: s.fileURL, options: options(for: s), category: siblings.category(of: s.keywordID))
        } catch {
            return .judgeFailed(error, rule: Self.ruleName, threshold: threshold, subject: s, what: "relevance judge")
        }
        let confidence = String(format: "%.2f", verdict.confidence)
        // The model's words are stored: an endpoint that echoes a credential must not put it in the manifest.
        let why = verdict.reason.isEmpty ? "" : " — \(SecretRedactor.redact(String(verdict.reason.prefix(160))))"
        let shownAs = verdict.choice == RelevanceConfusions.noneOption ? "none of the keywords" : "\"\(verdict.choice)\""
        if verdict.choice != s.keyword {
            return .drop(verdict.choice, threshold, "shown as \(shownAs) (\(confidence)), not \"\(s.keyword)\"\(why)")
        }
        if verdict.confidence < minConfidence {
            return .drop(verdict.choice, threshold, "shown as \"\(s.keyword)\" but only with confidence \(confidence) < \(formatNumber(minConfidence))\(why)")
        }
        return .keep(verdict.choice, threshold, "shown as \"\(s.keyword)\" (\(confidence))\(why)")
    }
}

extension FilterSettings {
    /// `filter.relevance.enabled` and `--relevance`: the command wires a judge only when it is on.
    public var relevance: Bool {
        get { self[RelevanceRule.self].enabled }
        set { self[RelevanceRule.self].enabled = newValue }
    }

    /// `filter.relevance.model`: the judge's model; nil asks `llm.model`.
    public var relevanceModel: String? { self[RelevanceRule.self].model }
}
