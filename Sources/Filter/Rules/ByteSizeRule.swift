import Dataset

/// Drops files outside a byte-size range (off by default).
public struct ByteSizeRule: RegisteredRule {
    public static let ruleName = "bytes"

    /// `filter.min_bytes` and `filter.max_bytes`; the rule is off while both are unset or 0 (nil here).
    public struct Settings: RuleSettings {
        public var minimum: Int?
        public var maximum: Int?

        public init() {}

        public static let keys: [SettingKey<Settings>] = [
            .int("min_bytes", \.minimum, rule: FilterSettings.sizeLimitRule, zeroMeansOff: true,
                 help: "drop files smaller than this (0 or unset: off)"),
            .int("max_bytes", \.maximum, rule: FilterSettings.sizeLimitRule, zeroMeansOff: true,
                 help: "drop files larger than this (0 or unset: off)"),
        ]
    }

    public static func make(_ settings: Settings, context: RuleContext) -> ByteSizeRule? {
        settings.minimum == nil && settings.maximum == nil
            ? nil : ByteSizeRule(minimum: settings.minimum, maximum: settings.maximum)
    }

    public let minimum: Int?
    public let maximum: Int?
    public init(minimum: Int?, maximum: Int?) { self.minimum = minimum; self.maximum = maximum }
    public var settingsDescription: String { "\(minimum ?? -1)-\(maximum ?? -1)" }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        let range = "\(minimum.map(String.init) ?? "0")..\(maximum.map(String.init) ?? "∞")"
        if let minimum, s.bytes < minimum { return .drop("\(s.bytes)", range, "bytes \(s.bytes) < \(minimum)") }
        if let maximum, s.bytes > maximum { return .drop("\(s.bytes)", range, "bytes \(s.bytes) > \(maximum)") }
        return .keep("\(s.bytes)", range, "bytes \(s.bytes) in \(range)")
    }
}
