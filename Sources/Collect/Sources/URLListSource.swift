import Dataset
import Foundation

/// A URL list as img2dataset takes it: CSV, TSV, JSONL or parquet with a URL column, an optional caption column and
/// any other columns (LAION's `pwatermark`, `punsafe`, `WIDTH`, `HEIGHT`…) kept in `candidates.extra`. The keyword
/// comes from a column or is fixed. A list is not a search: every row of a keyword is a candidate (no limit).
///
/// A parquet list is streamed a record batch at a time by `trainer/read_parquet_rows.py` (pyarrow in the bundled
/// environment, `ParquetRows`): each batch's rows become candidates as they arrive and the batch is dropped, so
/// the file is never held whole (what stays is one candidate per good row, as for the other formats).
public struct URLListSource: ImageSource {
    public struct Columns: Sendable {
        public var url = "url"
        public var caption: String? = "caption"
        public var keyword: String?
        /// The keyword of every row when there is no keyword column.
        public var fixedKeyword = "urls"

        public init(url: String = "url", caption: String? = "caption", keyword: String? = nil, fixedKeyword: String = "urls") {
            self.url = url
            self.caption = caption
            self.keyword = keyword
            self.fixedKeyword = fixedKeyword
        }
    }

    public let name = URLListSource.sourceName
    public let file: URL
    /// The rows by keyword, in file order.
    let rows: [String: [Candidate]]
    let keywordOrder: [String]
    /// Lines that could not be read (`file:line: message`), reported by the command.
    public let problems: [String]

    /// `parquet`: the bundled Python that streams a parquet list (nil: found beside the executable, `BundledTrainer`).
    public init(file: URL, format: String? = nil, columns: Columns = Columns(), parquet: ParquetRows? = nil) throws(CollectError) {
        self.file = file
        let kind = format ?? Self.format(of: file)
        var problems: [String] = []
        var rows: [String: [Candidate]] = [:]
        var order: [String] = []
        func noURLColumn(_ names: [String]) -> CollectError {
            CollectError(.unreadableInput, item: file.path,
                         detail: "no `\(columns.url)` column (the file's columns: \(names.map { "`\($0)`" }.joined(separator: ", "))); name it with --url-column or collect.sources.urls.url_column")
        }
        if kind == "parquet" {
            let reader = parquet ?? ParquetRows.bundled()
            try reader.read(file, problem: { line, message in
                problems.append("\(file.lastPathComponent):\(line): \(message)")
            }) { (found: [ParquetRows.Column]) throws(CollectError) in
                if let twice = Dictionary(grouping: found.map(\.name), by: { $0 }).filter({ $0.value.count > 1 }).keys.sorted().first {
                    throw CollectError(.unreadableInput, item: file.path, detail: "the column `\(twice)` appears more than once")
                }
                guard let url = found.first(where: { $0.name == columns.url }) else { throw noURLColumn(found.map(\.name)) }
                guard url.isText else {
                    throw CollectError(.unreadableInput, item: file.path, detail: "`\(columns.url)` is \(url.type), not a string column")
                }
            } rows: { batch in
                for record in batch { Self.add(record, columns: columns, file: file, rows: &rows, order: &order, problems: &problems) }
            }
        } else {
            let text: String
            do {
                text = try String(contentsOf: file, encoding: .utf8)
            } catch {
                throw CollectError(.unreadableInput, item: file.path, detail: error.localizedDescription)
            }
            let records: [(line: Int, fields: [String: String])]
            switch kind {
            case "jsonl":
                records = Self.jsonLines(text, problems: &problems, file: file.lastPathComponent)
            case "csv", "tsv":
                records = Self.delimited(text, delimiter: kind == "tsv" ? "\t" : ",", problems: &problems, file: file.lastPathComponent)
            default:
                throw CollectError(.invalidSetting, item: "collect.sources.urls.format",
                                   detail: "\(kind) is not supported for \(file.lastPathComponent); use csv, tsv, jsonl or parquet")
            }
            guard records.isEmpty || records.contains(where: { $0.fields[columns.url] != nil }) else {
                throw noURLColumn(Array(Set(records.flatMap { $0.fields.keys })).sorted())
            }
            for record in records { Self.add(record, columns: columns, file: file, rows: &rows, order: &order, problems: &problems) }
        }
        if rows.isEmpty && problems.isEmpty { problems.append("\(file.lastPathComponent): the list has no rows") }
        self.rows = rows
        self.keywordOrder = order
        self.problems = problems
    }

    /// One row of the list (`line`: its line in a text list, its 1-based row in a parquet list): a candidate of its
    /// keyword, or a problem naming the row and the cause.
    private static func add(_ record: (line: Int, fields: [String: String]), columns: Columns, file: URL,
                            rows: inout [String: [Candidate]], order: inout [String], problems: inout [String]) {
        guard let url = record.fields[columns.url]?.trimmingCharacters(in: .whitespaces), !url.isEmpty else {
            problems.append("\(file.lastPathComponent):\(record.line): empty `\(columns.url)`")
            return
        }
        if let control = url.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
            problems.append("\(file.lastPathComponent):\(record.line): the URL contains \(control == "\u{0}" ? "a NUL byte" : "a control character")")
            return
        }
        if url.unicodeScalars.contains(where: { $0.properties.isWhitespace }) {
            problems.append("\(file.lastPathComponent):\(record.line): the URL contains whitespace")
            return
        }
        // SQLite would keep a text only up to its NUL: the row is refused rather than cut short (as descriptions are).
        if let column = record.fields.keys.sorted().first(where: { record.fields[$0]!.unicodeScalars.contains("\u{0}") }) {
            problems.append("\(file.lastPathComponent):\(record.line): `\(column)` contains a NUL character (U+0000), which would cut the stored text short")
            return
        }
        let keyword: String
        if let column = columns.keyword, let value = record.fields[column] {
            keyword = value.trimmingCharacters(in: .whitespaces)
            if keyword.isEmpty {
                problems.append("\(file.lastPathComponent):\(record.line): empty `\(column)`")
                return
            }
        } else {
            keyword = columns.fixedKeyword
        }
        if let problem = KeywordText.problem(with: keyword) {
            problems.append("\(file.lastPathComponent):\(record.line): \(problem)")
            return
        }
        var extra = record.fields
        extra.removeValue(forKey: columns.url)
        if let key = columns.keyword { extra.removeValue(forKey: key) }
        let caption = columns.caption.flatMap { extra.removeValue(forKey: $0) }
        // The row's number in the list, under `line` unless the list has a `line` column of its own.
        extra[extra["line"] == nil ? "line" : "list_line"] = String(record.line)
        let license = extra["license"] ?? extra["LICENSE"]
        if let license, license.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}" }) {
            problems.append("\(file.lastPathComponent):\(record.line): the licence contains a line break or control character")
            return
        }
        if rows[keyword] == nil { order.append(keyword) }
        let candidate = Candidate(
            source: sourceName, sourceID: url, imageURL: url, license: License.normalize(license) ?? license,
            description: caption, declaredWidth: declaredSize(extra["WIDTH"] ?? extra["width"]),
            declaredHeight: declaredSize(extra["HEIGHT"] ?? extra["height"]),
            extra: extra, rank: rows[keyword, default: []].count)
        rows[keyword, default: []].append(candidate)
    }

    /// A declared width or height: a whole number of pixels in 0…1,000,000, else absent (LAION's NaN, `inf`, `1e300`,
    /// `-5`, `abc` are no size, and the row goes on).
    static func declaredSize(_ text: String?) -> Int? {
        guard let text, let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite,
              value >= 0, value <= 1_000_000 else { return nil }
        return Int(value)
    }

    static func format(of file: URL) -> String {
        switch file.pathExtension.lowercased() {
        case "tsv", "tab": return "tsv"
        case "jsonl", "ndjson", "json": return "jsonl"
        case "parquet", "pq": return "parquet"
        default: return "csv"
        }
    }

    public func declaredKeywords() -> [KeywordEntry] {
        keywordOrder.map { KeywordEntry(text: $0) }
    }

    /// The list's rows for `keyword`; a keyword the list does not name has none. The licence filter applies to rows
    /// that carry a licence column; `limit` does not (a list is taken whole).
    public func candidates(for query: String, keyword: String, limit: Int, context: SourceContext) async throws -> [Candidate] {
        (rows[keyword] ?? []).filter { $0.license == nil || context.licenses.accepts($0.license) }
    }

    private static func delimited(_ text: String, delimiter: Character, problems: inout [String], file: String) -> [(line: Int, fields: [String: String])] {
        var header: [String]?
        var out: [(line: Int, fields: [String: String])] = []
        for result in DelimitedTextReader(delimiter: delimiter).records(in: text) {
            switch result {
            case .failure(let failure):
                problems.append("\(file):\(failure.line): \(failure.message)")
            case .success(let record):
                guard let names = header else {
                    header = record.fields.map { $0.trimmingCharacters(in: .whitespaces) }
                    continue
                }
                var fields: [String: String] = [:]
                for (index, name) in names.enumerated() where index < record.fields.count && !name.isEmpty {
                    fields[name] = record.fields[index]
                }
                out.append((record.line, fields))
            }
        }
        return out
    }

    private static func jsonLines(_ text: String, problems: inout [String], file: String) -> [(line: Int, fields: [String: String])] {
        var out: [(line: Int, fields: [String: String])] = []
        for line in TextLines.split(text) {
            let index = line.number - 1
            let trimmed = line.text.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                problems.append("\(file):\(index + 1): not a JSON object")
                continue
            }
            out.append((index + 1, object.compactMapValues { JSONField.string($0) }))
        }
        return out
    }
}

extension URLListSource: RegisteredSource {
    public static let sourceName = "urls"
    public static let api: SourceAPI? = nil

    /// The list formats read (`collect.sources.urls.format`).
    public enum Format: String, Sendable, CaseIterable {
        case csv, tsv, jsonl, parquet
    }

    /// `collect.sources.urls.…`; `--source-file`, `--url-column`, `--caption-column`, `--keyword-column` and
    /// `--keyword` override them.
    public struct Options: SourceOptions {
        /// The list; relative to the recipe's folder when the recipe names it.
        public var file: String?
        /// nil: from the file's extension.
        public var format: Format?
        public var urlColumn = "url"
        public var captionColumn = "caption"
        public var keywordColumn: String?
        public var keyword = "urls"

        public init() {}

        public static let keys: [SettingKey<Options>] = [
            .string("file", \.file, help: "the URL list (CSV, TSV, JSONL or parquet), relative to the recipe's folder"),
            .choice("format", \.format, help: "the list's format (unset: from the file's extension)"),
            .string("url_column", \.urlColumn, help: "the column holding each image's URL"),
            .string("caption_column", \.captionColumn, help: "the column holding each image's caption"),
            .string("keyword_column", \.keywordColumn, help: "the column holding each row's keyword (unset: every row gets `keyword`)"),
            .string("keyword", \.keyword, help: "the keyword of every row when there is no keyword column"),
        ]

        public mutating func resolvePaths(_ resolve: (String) -> String) {
            file = file.map(resolve)
        }
    }

    public static func make(_ options: Options, setup: SourceSetup) throws(CollectError) -> URLListSource {
        guard let file = options.file else {
            throw CollectError(.invalidSetting, item: sourceName, detail: "give the URL list with --source-file or collect.sources.urls.file")
        }
        let columns = Columns(url: options.urlColumn, caption: options.captionColumn, keyword: options.keywordColumn,
                              fixedKeyword: options.keyword)
        return try URLListSource(file: URL(fileURLWithPath: file), format: options.format?.rawValue, columns: columns)
    }
}
