import Dataset
import Imaging

/// Keeps only the listed formats (off by default: every format the prober knows is kept).
public struct FormatRule: RegisteredRule {
    public static let ruleName = "formats"

    /// `filter.formats`; unset (nil) leaves the rule off.
    public struct Settings: RuleSettings {
        public var allowed: [String]?

        public init() {}

        public static let keys: [SettingKey<Settings>] = [
            .strings("formats", \.allowed, element: .choice(ImageFormat.allCases.map(\.rawValue) + ["jpg"]),
                     help: "keep only these formats; unset: all"),
        ]
    }

    public static func make(_ settings: Settings, context: RuleContext) -> FormatRule? {
        settings.allowed.map { FormatRule(allowed: $0) }
    }

    public let allowed: [String]
    public init(allowed: [String]) { self.allowed = allowed.map { $0.lowercased() == "jpg" ? "jpeg" : $0.lowercased() }.sorted() }
    public var settingsDescription: String { allowed.joined(separator: ",") }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        let list = allowed.joined(separator: ",")
        return allowed.contains(s.probe.format)
            ? .keep(s.probe.format, list, "format \(s.probe.format) allowed")
            : .drop(s.probe.format, list, "format \(s.probe.format) not in \(list)")
    }
}
