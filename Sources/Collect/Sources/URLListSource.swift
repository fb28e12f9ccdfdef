import Dataset
import Foundation

/// A URL list as img2dataset takes it: CSV, TSV, JSONL or parquet with a URL column, an optional caption column and
/// any other columns (LAION's `pwatermark`, `punsafe`, `WIDTH`, `HEIGHT`…) kept in `candidates.extra`. The keyword
/// comes from a column or is fixed. A list is not a search: every row of a keyword is a candidate (no limit).
///
/// The list is streamed, never held (`ListingSource`): a text list is read a block of lines at a time
/// (`TextFileChunks`), a parquet list a record batch at a time by `trainer/read_parquet_rows.py` (pyarrow in the
/// bundled environment, `ParquetRows`); each batch's rows become candidates that collect writes to the manifest
/// before the next batch is read (`ListStage`).
public struct URLListSource: ListingSource {
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
    public let format: Format
    public let columns: Columns
    /// The bundled Python that streams a parquet list (nil: found beside the executable, `BundledTrainer`).
    let parquet: ParquetRows?
    /// Good rows handed on at a time from a text list (a parquet list hands on each record batch's).
    public var batchRows = 4096
    /// Bytes of a text list read at a time (`TextFileChunks`).
    var textBlockBytes = 1 << 20

    /// Checks the format; the file itself is read by `stream`.
    public init(file: URL, format: String? = nil, columns: Columns = Columns(), parquet: ParquetRows? = nil) throws(CollectError) {
        let kind = format ?? Self.format(of: file)
        guard let known = Format(rawValue: kind) else {
            throw CollectError(.invalidSetting, item: "collect.sources.urls.format",
                               detail: "\(kind) is not supported for \(file.lastPathComponent); use csv, tsv, jsonl or parquet")
        }
        self.file = file
        self.format = known
        self.columns = columns
        self.parquet = parquet
    }

    public func stream(problem report: (String) -> Void, batch: ([ListedCandidate]) throws -> Void) throws {
        var rows = RowReader(columns: columns, file: file)
        var pending: [ListedCandidate] = []
        /// Hands on what has been read (`whole`: every row so far; else only a full batch).
        func flush(whole: Bool) throws {
            guard !pending.isEmpty, whole || pending.count >= batchRows else { return }
            try batch(pending)
            pending.removeAll(keepingCapacity: true)
        }
        func noURLColumn(_ names: [String]) -> CollectError {
            CollectError(.unreadableInput, item: file.path,
                         detail: "no `\(columns.url)` column (the file's columns: \(names.map { "`\($0)`" }.joined(separator: ", "))); name it with --url-column or collect.sources.urls.url_column")
        }
        if format == .parquet {
            let reader = parquet ?? ParquetRows.bundled()
            try reader.read(file, problem: { line, message in
                rows.problem(line, message, report)
            }) { (found: [ParquetRows.Column]) throws(CollectError) in
                if let twice = Dictionary(grouping: found.map(\.name), by: { $0 }).filter({ $0.value.count > 1 }).keys.sorted().first {
                    throw CollectError(.unreadableInput, item: file.path, detail: "the column `\(twice)` appears more than once")
                }
                guard let url = found.first(where: { $0.name == columns.url }) else { throw noURLColumn(found.map(\.name)) }
                guard url.isText else {
                    throw CollectError(.unreadableInput, item: file.path, detail: "`\(columns.url)` is \(url.type), not a string column")
                }
            } rows: { records in
                for record in records { if let row = rows.add(record, report) { pending.append(row) } }
                try flush(whole: true)
            }
        } else {
            // The columns seen while no row had a URL field (for the error when none has).
            var sawURLField = false
            var sawRecord = false
            var names = Set<String>()
            func take(_ record: (line: Int, fields: [String: String])) throws {
                sawRecord = true
                if !sawURLField {
                    sawURLField = record.fields[columns.url] != nil
                    if !sawURLField { names.formUnion(record.fields.keys) }
                }
                if let row = rows.add(record, report) { pending.append(row) }
                try flush(whole: false)
            }
            if format == .jsonl {
                var linesBefore = 0
                try TextFileChunks(file: file, blockBytes: textBlockBytes).forEach { piece in
                    let lines = TextLines.split(piece)
                    for line in lines {
                        let trimmed = line.text.trimmingCharacters(in: .whitespaces)
                        if trimmed.isEmpty { continue }
                        let number = linesBefore + line.number
                        guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                            rows.problem(number, "not a JSON object", report)
                            continue
                        }
                        try take((number, object.compactMapValues { JSONField.string($0) }))
                    }
                    linesBefore += lines.count
                }
            } else {
                var parser = DelimitedTextReader.Parser(delimiter: format == .tsv ? "\t" : ",")
                var header: [String]?
                func takeRecords(_ results: [Result<DelimitedTextReader.Record, DelimitedTextReader.Failure>]) throws {
                    for result in results {
                        switch result {
                        case .failure(let failure):
                            rows.problem(failure.line, failure.message, report)
                        case .success(let record):
                            guard let names = header else {
                                header = record.fields.map { $0.trimmingCharacters(in: .whitespaces) }
                                continue
                            }
                            var fields: [String: String] = [:]
                            for (index, name) in names.enumerated() where index < record.fields.count && !name.isEmpty {
                                fields[name] = record.fields[index]
                            }
                            try take((record.line, fields))
                        }
                    }
                }
                try TextFileChunks(file: file, blockBytes: textBlockBytes).forEach { piece in try takeRecords(parser.read(piece)) }
                try takeRecords(parser.finish())
            }
            if sawRecord && !sawURLField { throw noURLColumn(names.sorted()) }
        }
        try flush(whole: true)
        if rows.good == 0 && rows.problems == 0 { report("\(file.lastPathComponent): the list has no rows") }
    }

    /// The array API for one keyword: its rows, after the licence filter (rows without a licence column pass);
    /// `limit` does not apply (a list is taken whole). It reads the list through; collect streams it instead.
    public func candidates(for query: String, keyword: String, limit: Int, context: SourceContext) async throws -> [Candidate] {
        var found: [Candidate] = []
        try stream(problem: { _ in }) { batch in
            for row in batch where row.keyword == keyword && (row.candidate.license == nil || context.licenses.accepts(row.candidate.license)) {
                found.append(row.candidate)
            }
        }
        return found
    }

    /// Turns a list's rows into candidates one at a time: numbers each keyword's rows (`rank`), counts the good rows
    /// and the problems, and names each bad row (`file:line: message`). Holds one count per distinct keyword.
    struct RowReader {
        let columns: Columns
        let file: URL
        var ranks: [String: Int] = [:]
        var good = 0
        var problems = 0

        mutating func problem(_ line: Int, _ message: String, _ report: (String) -> Void) {
            problems += 1
            report("\(file.lastPathComponent):\(line): \(message)")
        }

        /// One row of the list (`line`: its line in a text list, its 1-based row in a parquet list): a candidate of
        /// its keyword, or nil after naming the row and the cause.
        mutating func add(_ record: (line: Int, fields: [String: String]), _ report: (String) -> Void) -> ListedCandidate? {
            switch URLListSource.candidate(record, columns: columns) {
            case .failure(let message):
                problem(record.line, message.text, report)
                return nil
            case .success(let (keyword, made)):
                var candidate = made
                candidate.rank = ranks[keyword, default: 0]
                ranks[keyword] = candidate.rank + 1
                good += 1
                return ListedCandidate(keyword: keyword, candidate: candidate)
            }
        }
    }

    /// Why a row is not a candidate.
    struct RowProblem: Error {
        let text: String
        init(_ text: String) { self.text = text }
    }

    /// One row's keyword and candidate (rank 0), or what is wrong with it.
    static func candidate(_ record: (line: Int, fields: [String: String]), columns: Columns) -> Result<(String, Candidate), RowProblem> {
        guard let url = record.fields[columns.url]?.trimmingCharacters(in: .whitespaces), !url.isEmpty else {
            return .failure(RowProblem("empty `\(columns.url)`"))
        }
        if let control = url.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
            return .failure(RowProblem("the URL contains \(control == "\u{0}" ? "a NUL byte" : "a control character")"))
        }
        if url.unicodeScalars.contains(where: { $0.properties.isWhitespace }) {
            return .failure(RowProblem("the URL contains whitespace"))
        }
        // SQLite would keep a text only up to its NUL: the row is refused rather than cut short (as descriptions are).
        if let column = record.fields.keys.sorted().first(where: { record.fields[$0]!.unicodeScalars.contains("\u{0}") }) {
            return .failure(RowProblem("`\(column)` contains a NUL character (U+0000), which would cut the stored text short"))
        }
        let keyword: String
        if let column = columns.keyword, let value = record.fields[column] {
            keyword = value.trimmingCharacters(in: .whitespaces)
            if keyword.isEmpty { return .failure(RowProblem("empty `\(column)`")) }
        } else {
            keyword = columns.fixedKeyword
        }
        if let problem = KeywordText.problem(with: keyword) { return .failure(RowProblem(problem)) }
        var extra = record.fields
        extra.removeValue(forKey: columns.url)
        if let key = columns.keyword { extra.removeValue(forKey: key) }
        let caption = columns.caption.flatMap { extra.removeValue(forKey: $0) }
        // The row's number in the list, under `line` unless the list has a `line` column of its own.
        extra[extra["line"] == nil ? "line" : "list_line"] = String(record.line)
        let license = extra["license"] ?? extra["LICENSE"]
        if let license, license.unicodeScalars.contains(where: { $0.properties.generalCategory == .control || $0 == "\u{2028}" || $0 == "\u{2029}" }) {
            return .failure(RowProblem("the licence contains a line break or control character"))
        }
        return .success((keyword, Candidate(
            source: sourceName, sourceID: url, imageURL: url, license: License.normalize(license) ?? license,
            description: caption, declaredWidth: declaredSize(extra["WIDTH"] ?? extra["width"]),
            declaredHeight: declaredSize(extra["HEIGHT"] ?? extra["height"]), extra: extra)))
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
