import ArgumentParser
import Dataset

/// Command-line options checked by the rule their recipe key declares (one rule for both; see `ValueRule`).
extension ValueRule {
    /// Returns `value`, or throws a usage error naming `option` when it breaks the rule.
    func checked(_ value: Int, _ option: String) throws -> Int {
        if let problem = problem(int: value) { throw ValidationError("\(option) \(problem)") }
        return value
    }

    func checked(_ value: Double, _ option: String) throws -> Double {
        if let problem = problem(double: value) { throw ValidationError("\(option) \(problem)") }
        return value
    }

    func checked(_ values: [Int], _ option: String) throws -> [Int] {
        if let problem = problem(.list(values.map { .int($0, line: 0) }, line: 0)) { throw ValidationError("\(option) \(problem)") }
        return values
    }

    func checked(_ values: [Double], _ option: String) throws -> [Double] {
        if let problem = problem(doubles: values) { throw ValidationError("\(option) \(problem)") }
        return values
    }

    func checked(_ value: String, _ option: String) throws -> String {
        if let problem = problem(.string(value, line: 0)) { throw ValidationError("\(option) \(problem)") }
        return value
    }
}

/// A comma-separated option value (`--modes a,b`): its entries, trimmed. An empty value (`--modes ""`, often an
/// unset shell variable) or an empty entry (`1,,2`) is a usage error, never an empty or shortened list.
enum CommaList {
    static func parse(_ text: String, option: String) throws -> [String] {
        let entries = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if entries.allSatisfy(\.isEmpty) { throw ValidationError("\(option) needs at least one value, not an empty string") }
        if entries.contains(where: \.isEmpty) { throw ValidationError("\(option) has an empty entry in \"\(text)\"") }
        return entries
    }
}
