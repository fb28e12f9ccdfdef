import Dataset
import Foundation
import Imaging

/// Drops images whose embedded rights metadata prohibits AI/ML training (`plus:DataMining`). Images that declare
/// themselves AI-generated are left to the caller (recorded, not dropped).
public struct RightsRule: RegisteredRule {
    public static let ruleName = "rights"

    /// `filter.rights.enabled` (on by default).
    public struct Settings: RuleSettings {
        public var enabled = true

        public init() {}

        public static let keys: [SettingKey<Settings>] = [
            .bool("rights.enabled", \.enabled, help: "drop images without a licence dsbuild may redistribute"),
        ]
    }

    public static func make(_ settings: Settings, context: RuleContext) -> RightsRule? {
        settings.enabled ? RightsRule() : nil
    }

    public init() {}
    public var settingsDescription: String { "dmi-prohibited" }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        guard let mining = s.probe.rights[EmbeddedRights.Key.xmpDataMining], !mining.isEmpty else {
            return .keep("unspecified", "not prohibited", "no DataMining statement")
        }
        let value = mining.components(separatedBy: "/").last ?? mining
        if value.uppercased().contains("PROHIBITED") {
            return .drop(value, "not prohibited", "plus:DataMining \(value) prohibits AI/ML training")
        }
        return .keep(value, "not prohibited", "plus:DataMining \(value)")
    }
}
