import Dataset

/// Drops images whose longer display side is above a maximum (off by default).
public struct MaxLongSideRule: RegisteredRule {
    public static let ruleName = "max_long_side"

    /// `filter.max_long_side`; unset or 0 (nil here) leaves the rule off.
    public struct Settings: RuleSettings {
        public var maximum: Int?

        public init() {}

        public static let keys: [SettingKey<Settings>] = [
            .int("max_long_side", \.maximum, rule: FilterSettings.sizeLimitRule, zeroMeansOff: true,
                 help: "drop images whose longer side is above this many pixels (0 or unset: off)"),
        ]
    }

    public static func make(_ settings: Settings, context: RuleContext) -> MaxLongSideRule? {
        settings.maximum.map { MaxLongSideRule(maximum: $0) }
    }

    public let maximum: Int
    public init(maximum: Int) { self.maximum = maximum }
    public var settingsDescription: String { "\(maximum)" }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        let long = max(s.probe.displayWidth, s.probe.displayHeight)
        return long <= maximum
            ? .keep("\(long)", "\(maximum)", "long_side \(long) <= \(maximum)")
            : .drop("\(long)", "\(maximum)", "long_side \(long) > \(maximum)")
    }
}
