import Foundation

/// What a setting's value must be (a range, an order, a set of names), declared once next to the setting and
/// applied by both readers of it: the recipe validator (the message then names the file, the line and the key)
/// and the command-line option (the message names the option). So a value the CLI refuses is refused in a
/// recipe too, and the reverse.
public struct ValueRule: Sendable {
    /// What the rule asks, for messages and the schema: "at least 1", "in [0, 1)".
    public let summary: String
    private let check: @Sendable (RecipeValue) -> String?

    /// A rule from a check that returns why a value is wrong, or nil.
    public init(_ summary: String, check: @escaping @Sendable (RecipeValue) -> String?) {
        self.summary = summary
        self.check = check
    }

    /// Why `value` breaks the rule, or nil when it satisfies it.
    public func problem(_ value: RecipeValue) -> String? {
        if case .null = value { return nil }
        // inf and NaN pass or dodge every comparison a range makes; no setting means them.
        if let d = value.doubleValue, !d.isFinite { return "must be a finite number, not \(d)" }
        if let items = value.listValue, let d = items.compactMap(\.doubleValue).first(where: { !$0.isFinite }) {
            return "must hold finite numbers, not \(d)"
        }
        return check(value)
    }

    public func problem(int value: Int) -> String? { problem(.int(value, line: 0)) }
    public func problem(double value: Double) -> String? { problem(.number(value, line: 0)) }
    public func problem(doubles values: [Double]) -> String? { problem(.list(values.map { .number($0, line: 0) }, line: 0)) }
    public func problem(strings values: [String]) -> String? { problem(.list(values.map { .string($0, line: 0) }, line: 0)) }

    // MARK: Common rules

    /// A number ≥ `minimum`.
    public static func atLeast(_ minimum: Double) -> ValueRule {
        ValueRule("at least \(show(minimum))") { value in
            guard let d = value.doubleValue else { return nil }
            return d >= minimum ? nil : "must be at least \(show(minimum)), not \(show(d))"
        }
    }

    /// A number > `minimum`.
    public static func greaterThan(_ minimum: Double) -> ValueRule {
        ValueRule("greater than \(show(minimum))") { value in
            guard let d = value.doubleValue else { return nil }
            return d > minimum ? nil : "must be greater than \(show(minimum)), not \(show(d))"
        }
    }

    /// A number in `[lower, upper]`, or `[lower, upper)` when `upperOpen`.
    public static func within(_ lower: Double, _ upper: Double, upperOpen: Bool = false) -> ValueRule {
        let text = "in [\(show(lower)), \(show(upper))\(upperOpen ? ")" : "]")"
        return ValueRule(text) { value in
            guard let d = value.doubleValue else { return nil }
            let ok = d >= lower && (upperOpen ? d < upper : d <= upper)
            return ok ? nil : "must be \(text), not \(show(d))"
        }
    }

    /// A fraction in [0, 1).
    public static let fraction = within(0, 1, upperOpen: true)

    /// `[min, max]` with 0 < min ≤ max.
    public static let positiveRange = ValueRule("[MIN, MAX] with 0 < MIN ≤ MAX") { value in
        guard let items = value.listValue else { return nil }
        let numbers = items.compactMap(\.doubleValue)
        guard numbers.count == 2, numbers.count == items.count else {
            return "must be two numbers [MIN, MAX], not \(items.count) value(s)"
        }
        if numbers[0] <= 0 { return "MIN must be greater than 0, not \(show(numbers[0]))" }
        if numbers[0] > numbers[1] { return "MIN \(show(numbers[0])) is greater than MAX \(show(numbers[1])); write [MIN, MAX]" }
        return nil
    }

    /// Text sent in an HTTP header (a User-Agent contact): one line, no control characters — a CR/LF would
    /// start a header of its own.
    public static let headerText = ValueRule("one line of text without control characters") { value in
        guard let text = value.stringValue else { return nil }
        return text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F })
            ? "must be one line without control characters (it is sent in an HTTP header)" : nil
    }

    /// An http(s) URL with a host (an endpoint or API root).
    public static let httpURL = ValueRule("an http(s) URL") { value in
        guard let text = value.stringValue else { return nil }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
              let host = url.host, !host.isEmpty else {
            return "must be an http(s) URL such as http://127.0.0.1:8080/v1, not \(text)"
        }
        return nil
    }

    /// A string that is not empty (a model name).
    public static let nonEmpty = ValueRule("not empty") { value in
        guard let text = value.stringValue else { return nil }
        return text.trimmingCharacters(in: .whitespaces).isEmpty ? "must not be empty" : nil
    }

    static func show(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
    }
}
