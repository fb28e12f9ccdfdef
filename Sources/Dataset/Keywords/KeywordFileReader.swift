import Foundation

/// Reads keyword files: TXT (one keyword a line, `#` comments), CSV/TSV with a header row (`keyword` plus
/// optional `category`, `query`, `language`; other columns become extra fields) and JSONL (one object a line
/// with the same field names). UTF-8 with or without a byte-order mark; LF, CRLF or CR line ends. Duplicates are
/// merged. A keyword `KeywordText` refuses (empty, NUL, too long) is reported as `file:line: why`; the rest is read.
public struct KeywordFileReader: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case txt, csv, tsv, jsonl
    }

    /// The keywords read, in first-seen order, and the lines that could not be read.
    public struct Result: Sendable {
        public var keywords: [KeywordEntry]
        public var errors: [KeywordLineError]
        public var duplicatesMerged: Int
    }

    static let knownColumns: Set<String> = ["keyword", "category", "query", "language"]
    static let keywordAliases = ["keyword", "text", "name", "label"]

    public init() {}

    /// Picks the format from the file extension (`.txt`, `.csv`, `.tsv`, `.jsonl`/`.ndjson`), else sniffs.
    public static func format(for url: URL, text: String) -> Format {
        switch url.pathExtension.lowercased() {
        case "csv": return .csv
        case "tsv", "tab": return .tsv
        case "jsonl", "ndjson": return .jsonl
        case "txt", "list": return .txt
        default:
            let first = TextLines.first(of: text)
            if first.hasPrefix("{") { return .jsonl }
            if first.contains("\t") { return .tsv }
            return .txt
        }
    }

    public func read(contentsOf url: URL, format: Format? = nil) throws -> Result {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw KeywordLineError(file: url.path, line: 0, message: "cannot read the file: \(error.localizedDescription)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw KeywordLineError(file: url.path, line: 0, message: "not UTF-8 text; save it as UTF-8")
        }
        let chosen = format ?? Self.format(for: url, text: text)
        return parse(text: text, format: chosen, fileName: url.path)
    }

    public func parse(text rawText: String, format: Format, fileName: String) -> Result {
        let text = rawText.hasPrefix("\u{FEFF}") ? String(rawText.dropFirst()) : rawText
        var collector = Collector(fileName: fileName)
        switch format {
        case .txt: parseTXT(text, into: &collector)
        case .csv: parseDelimited(text, delimiter: ",", into: &collector)
        case .tsv: parseDelimited(text, delimiter: "\t", into: &collector)
        case .jsonl: parseJSONL(text, into: &collector)
        }
        return collector.result
    }

    private func parseTXT(_ text: String, into collector: inout Collector) {
        for rawLine in TextLines.split(text) {
            let line = rawLine.text.trimmingCharacters(in: .whitespacesAndNewlines)
            if KeywordText.isBlank(line) || line.hasPrefix("#") { continue }
            collector.add(KeywordEntry(text: line), line: rawLine.number)
        }
    }

    private func parseDelimited(_ text: String, delimiter: Character, into collector: inout Collector) {
        let records = DelimitedTextReader(delimiter: delimiter).records(in: text)
        var header: [String]?
        for record in records {
            switch record {
            case .failure(let failure):
                collector.fail(line: failure.line, failure.message)
            case .success(let row):
                guard let columns = header else {
                    let names = row.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
                    guard let keyColumn = names.firstIndex(where: { Self.keywordAliases.contains($0) }) else {
                        collector.fail(line: row.line, "the header has no `keyword` column (found: \(names.joined(separator: ", ")))")
                        return
                    }
                    var normalised = row.fields.map { $0.trimmingCharacters(in: .whitespaces) }
                    normalised[keyColumn] = "keyword"
                    header = normalised
                    continue
                }
                if row.fields.count == 1, row.fields[0].trimmingCharacters(in: .whitespaces).hasPrefix("#") { continue }
                if row.fields.count != columns.count {
                    collector.fail(line: row.line, "has \(row.fields.count) fields, the header has \(columns.count)")
                    continue
                }
                var values: [String: String] = [:]
                for (name, value) in zip(columns, row.fields) { values[name] = value }
                addFields(values, line: row.line, into: &collector)
            }
        }
    }

    private func parseJSONL(_ text: String, into collector: inout Collector) {
        for rawLine in TextLines.split(text) {
            let line = rawLine.text.trimmingCharacters(in: .whitespacesAndNewlines)
            let index = rawLine.number - 1
            if line.isEmpty { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                collector.fail(line: index + 1, line.unicodeScalars.contains("\u{0}") ? "contains a NUL byte" : "not a JSON object")
                continue
            }
            var values: [String: String] = [:]
            for (key, value) in object {
                let name = Self.keywordAliases.contains(key.lowercased()) && values["keyword"] == nil ? "keyword" : key
                switch value {
                case let string as String: values[name] = string
                case is NSNull: continue
                case let number as NSNumber: values[name] = number.stringValue
                default:
                    if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys]),
                       let encoded = String(data: data, encoding: .utf8) {
                        values[name] = encoded
                    }
                }
            }
            addFields(values, line: index + 1, into: &collector)
        }
    }

    private func addFields(_ values: [String: String], line: Int, into collector: inout Collector) {
        let keyword = (values["keyword"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !keyword.isEmpty else {
            collector.fail(line: line, "no keyword (the `keyword` field is empty or missing)")
            return
        }
        func optional(_ name: String) -> String? {
            guard let value = values[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
            return value
        }
        var extra: [String: String] = [:]
        for (key, value) in values where !Self.knownColumns.contains(key) && !key.isEmpty {
            extra[key] = value
        }
        collector.add(KeywordEntry(text: keyword, category: optional("category"), language: optional("language"),
                                   query: optional("query"), extra: extra), line: line)
    }

    private struct Collector {
        let fileName: String
        var order: [String] = []
        var entries: [String: KeywordEntry] = [:]
        var errors: [KeywordLineError] = []
        var duplicates = 0

        init(fileName: String) { self.fileName = fileName }

        mutating func add(_ entry: KeywordEntry, line: Int) {
            if let problem = KeywordText.problem(with: entry.text)
                ?? [("category", entry.category), ("query", entry.query)].lazy.compactMap({ field, value in
                    value.flatMap { KeywordText.problem(field: field, $0) } }).first {
                fail(line: line, problem)
                return
            }
            if var existing = entries[entry.text] {
                existing.merge(entry)
                entries[entry.text] = existing
                duplicates += 1
            } else {
                entries[entry.text] = entry
                order.append(entry.text)
            }
        }

        mutating func fail(line: Int, _ message: String) {
            errors.append(KeywordLineError(file: fileName, line: line, message: message))
        }

        var result: Result {
            Result(keywords: order.compactMap { entries[$0] }, errors: errors, duplicatesMerged: duplicates)
        }
    }
}
