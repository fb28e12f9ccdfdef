import Dataset
import Foundation

/// Drops images whose display aspect ratio (width / height) is outside a range (VLV default 0.5–2.0).
public struct AspectRatioRule: RegisteredRule {
    public static let ruleName = "aspect_ratio"

    /// `filter.aspect_ratio` and `--aspect-ratio`: [MIN, MAX], 0 < MIN ≤ MAX.
    public static let rangeRule = ValueRule.positiveRange

    /// `filter.aspect_ratio`: the [MIN, MAX] range; nil turns the rule off.
    public struct Settings: RuleSettings {
        public var range: (Double, Double)? = (0.5, 2.0)

        public init() {}

        public static let keys: [SettingKey<Settings>] = [
            .custom("aspect_ratio", .checked(.list(.number), AspectRatioRule.rangeRule),
                    help: "[MIN, MAX] width/height ratio an image must fall in",
                    apply: { s, v in
                        let pair = v.listValue?.compactMap(\.doubleValue) ?? []
                        if pair.count == 2 { s.range = (pair[0], pair[1]) }
                    },
                    render: { s in s.range.map { .list([.double($0.0), .double($0.1)]) } ?? .null }),
        ]
    }

    public static func make(_ settings: Settings, context: RuleContext) -> AspectRatioRule? {
        settings.range.map { AspectRatioRule(minimum: $0.0, maximum: $0.1) }
    }

    public let minimum: Double
    public let maximum: Double
    public init(minimum: Double, maximum: Double) { self.minimum = minimum; self.maximum = maximum }
    public var settingsDescription: String { "\(minimum)-\(maximum)" }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        guard s.probe.displayHeight > 0 else { return .drop("undefined", "\(minimum)-\(maximum)", "height is 0") }
        let ratio = Double(s.probe.displayWidth) / Double(s.probe.displayHeight)
        let shown = String(format: "%.3f", ratio)
        let range = "\(formatNumber(minimum))-\(formatNumber(maximum))"
        if ratio < minimum { return .drop(shown, range, "aspect_ratio \(shown) < \(formatNumber(minimum))") }
        if ratio > maximum { return .drop(shown, range, "aspect_ratio \(shown) > \(formatNumber(maximum))") }
        return .keep(shown, range, "aspect_ratio \(shown) in \(range)")
    }
}

extension FilterSettings {
    /// `filter.aspect_ratio` and `--aspect-ratio` (nil: off); the report draws it on the aspect histogram.
    public var aspectRatio: (Double, Double)? {
        get { self[AspectRatioRule.self].range }
        set { self[AspectRatioRule.self].range = newValue }
    }
}
