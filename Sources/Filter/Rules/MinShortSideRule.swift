import Dataset

/// Drops images whose shorter display side is below a minimum (VLV default 512).
public struct MinShortSideRule: RegisteredRule {
    public static let ruleName = "min_short_side"

    /// `filter.min_short_side`; 0 in the recipe (nil here) turns the rule off.
    public struct Settings: RuleSettings {
        public var minimum: Int? = 512

        public init() {}

        public static let keys: [SettingKey<Settings>] = [
            .int("min_short_side", \.minimum, rule: FilterSettings.sizeLimitRule, zeroMeansOff: true,
                 help: "drop images whose shorter side is below this many pixels (0: off)"),
        ]
    }

    public static func make(_ settings: Settings, context: RuleContext) -> MinShortSideRule? {
        settings.minimum.map { MinShortSideRule(minimum: $0) }
    }

    public let minimum: Int
    public init(minimum: Int) { self.minimum = minimum }
    public var settingsDescription: String { "\(minimum)" }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        let short = min(s.probe.displayWidth, s.probe.displayHeight)
        return short >= minimum
            ? .keep("\(short)", "\(minimum)", "short_side \(short) >= \(minimum)")
            : .drop("\(short)", "\(minimum)", "short_side \(short) < \(minimum)")
    }
}

extension FilterSettings {
    /// `filter.min_short_side` and `--min-short-side` (nil: off); the report draws it on the size histogram.
    public var minShortSide: Int? {
        get { self[MinShortSideRule.self].minimum }
        set { self[MinShortSideRule.self].minimum = newValue }
    }
}
