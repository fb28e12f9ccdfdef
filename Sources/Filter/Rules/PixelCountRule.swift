import Dataset

/// Drops images with fewer or more pixels (stored width × height) than allowed (off by default).
public struct PixelCountRule: RegisteredRule {
    public static let ruleName = "pixels"

    /// `filter.min_pixels` and `filter.max_pixels`; the rule is off while both are unset or 0 (nil here).
    public struct Settings: RuleSettings {
        public var minimum: Int?
        public var maximum: Int?

        public init() {}

        public static let keys: [SettingKey<Settings>] = [
            .int("min_pixels", \.minimum, rule: FilterSettings.sizeLimitRule, zeroMeansOff: true,
                 help: "drop images with fewer pixels (0 or unset: off)"),
            .int("max_pixels", \.maximum, rule: FilterSettings.sizeLimitRule, zeroMeansOff: true,
                 help: "drop images with more pixels (0 or unset: off)"),
        ]
    }

    public static func make(_ settings: Settings, context: RuleContext) -> PixelCountRule? {
        settings.minimum == nil && settings.maximum == nil
            ? nil : PixelCountRule(minimum: settings.minimum, maximum: settings.maximum)
    }

    public let minimum: Int?
    public let maximum: Int?
    public init(minimum: Int?, maximum: Int?) { self.minimum = minimum; self.maximum = maximum }
    public var settingsDescription: String { "\(minimum ?? -1)-\(maximum ?? -1)" }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        let pixels = s.probe.width * s.probe.height
        let range = "\(minimum.map(String.init) ?? "0")..\(maximum.map(String.init) ?? "∞")"
        if let minimum, pixels < minimum { return .drop("\(pixels)", range, "pixels \(pixels) < \(minimum)") }
        if let maximum, pixels > maximum { return .drop("\(pixels)", range, "pixels \(pixels) > \(maximum)") }
        return .keep("\(pixels)", range, "pixels \(pixels) in \(range)")
    }
}
