import Dataset

/// The one list of per-image rules the filter knows. A new rule is one file conforming to `RegisteredRule` and
/// one entry here; its recipe keys, their documentation, the run record and the active rules follow from it.
public enum FilterRules {
    /// Every rule, in the order they are reported (and their keys listed in `recipe --schema`).
    public static let all: [any RegisteredRule.Type] = [
        MinShortSideRule.self, MaxLongSideRule.self, PixelCountRule.self, AspectRatioRule.self, ByteSizeRule.self,
        FormatRule.self, AnimatedRule.self, WatermarkRule.self, RightsRule.self, IntegrityRule.self, ClipRankRule.self,
        RelevanceRule.self,
    ]

    public static var names: [String] { all.map { $0.ruleName } }

    /// Every rule's keys, as keys of the `filter:` section.
    static var keys: [SettingKey<FilterSettings>] { all.flatMap { $0.filterKeys } }
}
