import Dataset

/// Drops animated images (GIF, APNG, animated WebP) unless told to keep them.
public struct AnimatedRule: RegisteredRule {
    public static let ruleName = "animated"

    /// `filter.animated`: `drop` (the default) switches the rule on, `keep` off.
    public struct Settings: RuleSettings {
        public var drop = true

        public init() {}

        public static let keys: [SettingKey<Settings>] = [
            .custom("animated", .choice(["drop", "keep"]), help: "drop or keep animated images",
                    apply: { s, v in if let t = v.stringValue { s.drop = t == "drop" } },
                    render: { .string($0.drop ? "drop" : "keep") }),
        ]
    }

    public static func make(_ settings: Settings, context: RuleContext) -> AnimatedRule? {
        settings.drop ? AnimatedRule() : nil
    }

    public init() {}
    public var settingsDescription: String { "drop" }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        let frames = s.probe.frames.map { " (\($0) frames)" } ?? ""
        return s.probe.animated
            ? .drop("animated", "still", "animated \(s.probe.format)\(frames)")
            : .keep("still", "still", "not animated")
    }
}
