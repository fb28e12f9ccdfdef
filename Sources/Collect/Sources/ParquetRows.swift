import Dataset
import Foundation

/// Reads a parquet URL list a record batch at a time through `trainer/read_parquet_rows.py` (pyarrow in the
/// bundled environment): the column names first, then each batch's rows as text fields, handed to the caller and
/// dropped. The child's output is read a line (one batch) at a time, so neither side holds the file whole.
public struct ParquetRows: Sendable {
    /// The interpreter (a venv's `bin/python`) and the script.
    public var python: String
    public var script: URL
    /// Rows per record batch asked of pyarrow.
    public var batchRows = 4096

    public init(python: String, script: URL, batchRows: Int = 4096) {
        self.python = python
        self.script = script
        self.batchRows = batchRows
    }

    /// The bundled trainer's script and Python (`trainer/.venv`, else `python3`); a missing trainer folder is
    /// reported when the list is read.
    public static func bundled() -> ParquetRows {
        let folder = BundledTrainer.folder()
        return ParquetRows(python: folder.map(BundledTrainer.python(in:)) ?? "python3",
                           script: (folder ?? URL(fileURLWithPath: "trainer")).appendingPathComponent("read_parquet_rows.py"))
    }

    /// What a read saw: the rows streamed and the reader's peak resident memory (its own report).
    public struct Summary: Sendable {
        public var rows = 0
        public var readerPeakKB = 0
        /// The row count the file's metadata declares (known before the first batch; for progress).
        public var declaredRows: Int?
    }

    /// One column of the file: its name and its Arrow type as pyarrow writes it (`string`, `int64`,
    /// `dictionary<values=string, …>`, `list<element: string>`).
    public struct Column: Sendable, Equatable {
        public var name: String
        public var type: String

        /// Whether its values are text (`string`, `large_string`, `string_view`, or a dictionary of those).
        public var isText: Bool {
            ["string", "large_string", "string_view", "utf8", "large_utf8"].contains(type)
                || type.hasPrefix("dictionary<values=string") || type.hasPrefix("dictionary<values=large_string")
        }
    }

    /// Streams `file`: `columns` with the columns (it may throw to stop), then `rows` once per batch with
    /// `(row number, fields)` (null values left out); a row that cannot be read (a value that is not valid UTF-8) is
    /// left out of its batch and handed to `problem` with its row number and the cause. What `columns` or `rows`
    /// throws (a manifest error, a cancellation) ends the reader and comes out as it was thrown; the reader's own
    /// failures come out as `CollectError`s naming the file.
    @discardableResult
    public func read(_ file: URL, problem: (_ line: Int, _ message: String) -> Void = { _, _ in },
                     columns: ([Column]) throws -> Void,
                     rows: ([(line: Int, fields: [String: String])]) throws -> Void) throws -> Summary {
        guard FileManager.default.fileExists(atPath: script.path) else {
            throw CollectError(.unreadableInput, item: file.path,
                               detail: "a parquet list is read with the bundled trainer's \(script.lastPathComponent), which is not at \(script.path); set DSBUILD_TRAINER_DIR")
        }
        guard FileManager.default.isReadableFile(atPath: file.path) else {
            throw CollectError(.unreadableInput, item: file.path, detail: "no such file, or it cannot be read")
        }
        let bridge: PythonLineBridge
        do {
            bridge = try PythonLineBridge(python: python, script: script, arguments: ["--file", file.path, "--batch-rows", "\(batchRows)"])
        } catch {
            throw CollectError(.unreadableInput, item: file.path, detail: "\(error); a parquet list needs a Python with pyarrow (`dsbuild train --setup` makes the bundled one)")
        }
        var finished = false
        var summary = Summary()
        defer { if finished { bridge.close() } else { bridge.terminate() } }
        /// The reader's next event; its failure names the file.
        func expect(_ event: String, or other: String? = nil) throws(CollectError) -> [String: Any] {
            do {
                return try bridge.expect(event, or: other)
            } catch {
                throw CollectError(.unreadableInput, item: file.path, detail: "\(error)")
            }
        }
        bridge.finishInput()
        let header = try expect("columns")
        let names = header["columns"] as? [String] ?? []
        let types = header["types"] as? [String] ?? []
        summary.declaredRows = header["rows"] as? Int
        try columns(names.enumerated().map { Column(name: $1, type: $0 < types.count ? types[$0] : "") })
        while true {
            let event = try expect("rows", or: "end")
            if event["event"] as? String == "end" {
                summary.rows = event["rows"] as? Int ?? 0
                summary.readerPeakKB = event["max_rss_kb"] as? Int ?? 0
                break
            }
            let first = event["first"] as? Int ?? 1
            let skipped = Set(event["skipped"] as? [Int] ?? [])
            for entry in event["problems"] as? [[String: Any]] ?? [] {
                problem(entry["row"] as? Int ?? 0, entry["message"] as? String ?? "cannot be read")
            }
            // The row numbers of the rows sent: the batch's, less the skipped ones.
            var lines = (0..<((event["rows"] as? [Any])?.count ?? 0) + skipped.count).filter { !skipped.contains($0) }.map { first + $0 }.makeIterator()
            let batch = (event["rows"] as? [[String: Any]] ?? []).map { row in
                (line: lines.next() ?? first, fields: row.compactMapValues { $0 as? String })
            }
            try rows(batch)
        }
        finished = true
        return summary
    }
}
