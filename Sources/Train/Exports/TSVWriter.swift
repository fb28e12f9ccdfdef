import Foundation

/// Tab-separated text as pandas' `read_csv(sep="\t")` reads it back: a cell holding a tab, a line break or a
/// quote is quoted (`"…"`, inner quotes doubled); lines end with `\n`.
struct TSVWriter {
    private(set) var text = ""

    /// The cells pandas reads as missing (its default `na_values`), whether quoted or not: a question or option
    /// spelled so would come back empty.
    static let pandasMissing: Set<String> = ["", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
                                              "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"]

    /// Whether pandas' `read_csv` (no dtype) may read `value` as something other than this text: an integer
    /// (`007` → 7), a float (`1988`, `1e3`, `inf`) or a boolean (`TRUE`, `false`) — in a column whose every cell is
    /// such; errs towards yes (spaces around it, any Swift-parsable number).
    static func pandasConverts(_ value: String) -> Bool {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if ["true", "false"].contains(trimmed.lowercased()) { return true }
        return !trimmed.isEmpty && Double(trimmed) != nil
    }

    mutating func row(_ cells: [String]) {
        text += cells.map(Self.cell).joined(separator: "\t") + "\n"
    }

    static func cell(_ value: String) -> String {
        guard value.contains(where: { $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" || $0 == "\"" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
