@testable import Collect
import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

/// A parquet URL list (LAION's columns) read through the bundled Python (`trainer/read_parquet_rows.py`, pyarrow),
/// the files made by pyarrow in the interop venv. Opt-in like the other tests that run the bundled Python:
/// `DSBUILD_TRAINER_PYTHON` names a Python with the trainer's requirements.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["DSBUILD_TRAINER_PYTHON"] != nil))
struct ParquetURLListTests {
    static var reader: ParquetRows {
        ParquetRows(python: ProcessInfo.processInfo.environment["DSBUILD_TRAINER_PYTHON"]!,
                    script: TestPaths.repositoryRoot.appendingPathComponent("trainer/read_parquet_rows.py"))
    }

    /// Runs `code` with the interop venv's Python (pyarrow pinned), created on first use.
    static func pyarrow(_ code: String, _ arguments: [String] = []) throws {
        let result = try InteropPython.run(code, arguments)
        try #require(result.status == 0, "pyarrow failed: \(result.stderr.suffix(2000))")
    }

    /// A LAION-style list of `rows` rows in row groups of 10 000 (as LAION's files come).
    static func laionList(rows: Int, at url: URL) throws {
        try pyarrow("""
            import sys, pyarrow as pa, pyarrow.parquet as pq
            n = int(sys.argv[2])
            table = pa.table({
                "SAMPLE_ID": pa.array(range(n), pa.int64()),
                "URL": [f"http://127.0.0.1:9/img/{i}.jpg" for i in range(n)],
                "TEXT": [f"a photo of thing number {i} on a table" for i in range(n)],
                "HEIGHT": pa.array([480.0 + i % 7 for i in range(n)], pa.float64()),
                "WIDTH": pa.array([640 + i % 5 for i in range(n)], pa.int64()),
                "LICENSE": ["?"] * n,
                "NSFW": ["UNLIKELY"] * n,
                "similarity": [0.31] * n,
                "pwatermark": [0.05] * n,
                "punsafe": [0.001] * n,
            })
            pq.write_table(table, sys.argv[1], row_group_size=10000)
            """, [url.path, "\(rows)"])
    }

    /// The resident memory of this process, in bytes (`/proc/self/statm`).
    static func residentBytes() -> Int {
        let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? ""
        let pages = Int(statm.split(separator: " ").dropFirst().first ?? "") ?? 0
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Streams `file` with a consumer that keeps nothing; returns the rows, the largest batch, the growth of this
    /// process's resident memory over the read (sampled at every batch) and the reader's own peak.
    static func stream(_ file: URL) throws -> (rows: Int, largestBatch: Int, growth: Int, readerPeakKB: Int, ordered: Bool) {
        let before = residentBytes()
        var peak = before, rows = 0, largest = 0, ordered = true
        let summary = try reader.read(file) { _ in } rows: { batch in
            ordered = ordered && batch.first?.line == rows + 1
            rows += batch.count
            largest = max(largest, batch.count)
            peak = max(peak, residentBytes())
        }
        return (rows, largest, peak - before, summary.readerPeakKB, ordered && summary.rows == rows)
    }

    /// Memory stays flat: the rows arrive a batch at a time and a consumer that keeps nothing holds nothing, so
    /// reading 100 000 rows grows this process no more than reading 10 000 (within 24 MiB), and the reader's own
    /// peak (pyarrow, a row group and a batch at a time) stays within 64 MiB of its 10 000-row peak.
    @Test func aHundredThousandRowsStreamInFlatMemory() throws {
        let dir = TemporaryDirectory()
        try Self.laionList(rows: 10_000, at: dir.path("small.parquet"))
        try Self.laionList(rows: 100_000, at: dir.path("big.parquet"))
        _ = try Self.stream(dir.path("small.parquet"))  // warm-up: first-use allocations are not the file's
        let small = try Self.stream(dir.path("small.parquet"))
        let big = try Self.stream(dir.path("big.parquet"))
        #expect(small.rows == 10_000 && big.rows == 100_000)
        #expect(small.ordered && big.ordered, "rows arrive numbered in file order")
        #expect(big.largestBatch <= Self.reader.batchRows, "a batch at a time: \(big.largestBatch)")
        let mib = 1 << 20
        print("parquet stream: dsbuild growth \(small.growth / 1024) KiB (10k) vs \(big.growth / 1024) KiB (100k); reader peak \(small.readerPeakKB) KiB vs \(big.readerPeakKB) KiB")
        #expect(big.growth < small.growth + 24 * mib, "dsbuild grew \(big.growth / mib) MiB for 100k rows, \(small.growth / mib) MiB for 10k")
        #expect(big.readerPeakKB * 1024 < small.readerPeakKB * 1024 + 64 * mib, "reader peak \(big.readerPeakKB) KiB vs \(small.readerPeakKB) KiB")
        // Every row comes out of the source's stream as a candidate, in file order (collected whole here by the test).
        let source = try URLListSource(file: dir.path("big.parquet"), columns: .init(url: "URL", caption: "TEXT"), parquet: Self.reader).whole()
        let rows = try #require(source.rows["urls"])
        #expect(rows.count == 100_000 && source.problems.isEmpty)
        #expect(rows[99_999].imageURL == "http://127.0.0.1:9/img/99999.jpg")
        #expect(rows[99_999].extra["line"] == "100000")
    }

    @Test func laionColumnsBecomeCandidatesAndBadRowsAreProblemsWithTheirRowNumber() async throws {
        let dir = TemporaryDirectory()
        let file = dir.path("laion.parquet")
        try Self.pyarrow("""
            import sys, pyarrow as pa, pyarrow.parquet as pq
            pq.write_table(pa.table({
                "URL": ["http://h/1.jpg", None, "http://h/\\x01.jpg", "http://h/4.jpg", "http://h/5.jpg", "  "],
                "TEXT": ["A jar of kimchi", "no url", "control", "bad keyword", "한복 입은 사람", "blank url"],
                "kw": ["kimchi", "kimchi", "kimchi", "bad\\x07keyword", "한복", "kimchi"],
                "WIDTH": pa.array([640.0, 1.0, 1.0, 1.0, 1024.0, 1.0]),
                "HEIGHT": pa.array([480, 1, 1, 1, 768, 1], pa.int64()),
                "LICENSE": ["CC BY 4.0", None, None, None, "?", None],
                "pwatermark": [0.1, None, None, None, 0.9, None],
                "punsafe": [0.0, None, None, None, 0.25, None],
            }), sys.argv[1], row_group_size=2)
            """, [file.path])
        let source = try URLListSource(file: file, columns: .init(url: "URL", caption: "TEXT", keyword: "kw"), parquet: Self.reader).whole()
        #expect(source.keywords == ["kimchi", "한복"])
        #expect(source.problems == [
            "laion.parquet:2: empty `URL`",
            "laion.parquet:3: the URL contains a control character",
            "laion.parquet:4: contains the control character U+0007",
            "laion.parquet:6: empty `URL`",
        ])
        let kimchi = try #require(source.rows["kimchi"]?.first)
        #expect(kimchi.imageURL == "http://h/1.jpg" && kimchi.description == "A jar of kimchi")
        #expect(kimchi.declaredWidth == 640 && kimchi.declaredHeight == 480)
        #expect(kimchi.license == License.normalize("CC BY 4.0"))
        #expect(kimchi.extra["pwatermark"] == "0.1" && kimchi.extra["punsafe"] == "0.0" && kimchi.extra["line"] == "1")
        let hanbok = try #require(source.rows["한복"]?.first)
        #expect(hanbok.description == "한복 입은 사람" && hanbok.extra["punsafe"] == "0.25" && hanbok.declaredWidth == 1024)
    }

    @Test func aListWithoutTheURLColumnOrNotParquetIsOneClearError() throws {
        let dir = TemporaryDirectory()
        try Self.pyarrow("""
            import sys, pyarrow as pa, pyarrow.parquet as pq
            pq.write_table(pa.table({"link": ["http://h/1.jpg"]}), sys.argv[1])
            """, [dir.path("l.parquet").path])
        #expect {
            try URLListSource(file: dir.path("l.parquet"), columns: .init(url: "URL"), parquet: Self.reader).whole()
        } throws: { "\($0)".contains("no `URL` column (the file's columns: `link`)") && "\($0)".contains("l.parquet") }
        try "url\nhttp://h/1.jpg\n".write(to: dir.path("fake.parquet"), atomically: true, encoding: .utf8)
        #expect {
            try URLListSource(file: dir.path("fake.parquet"), parquet: Self.reader).whole()
        } throws: { "\($0)".contains("fake.parquet") && "\($0)".contains("cannot be read as parquet") }
    }

    /// LAION's NaN widths, an infinite or huge height: no declared size, no crash, the row goes on.
    @Test func aNaNInfiniteOrHugeDeclaredSizeIsAbsentAndTheRowGoesOn() throws {
        let dir = TemporaryDirectory()
        let file = dir.path("nan.parquet")
        try Self.pyarrow("""
            import sys, pyarrow as pa, pyarrow.parquet as pq
            pq.write_table(pa.table({
                "URL": ["http://h/1.jpg", "http://h/2.jpg", "http://h/3.jpg", "http://h/4.jpg"],
                "WIDTH": pa.array([float("nan"), float("inf"), 1e300, 640.0]),
                "HEIGHT": pa.array([float("-inf"), -5.0, float("nan"), 480.0]),
            }), sys.argv[1])
            """, [file.path])
        let source = try URLListSource(file: file, columns: .init(url: "URL"), parquet: Self.reader).whole()
        let rows = try #require(source.rows["urls"])
        #expect(rows.count == 4 && source.problems.isEmpty)
        #expect(rows.prefix(3).allSatisfy { $0.declaredWidth == nil && $0.declaredHeight == nil })
        #expect(rows[3].declaredWidth == 640 && rows[3].declaredHeight == 480)
        let csv = dir.path("nan.csv")
        try "url,width,height\nhttp://h/1.jpg,nan,inf\nhttp://h/2.jpg,1e400,-1e300\nhttp://h/3.jpg,800,600\n".write(to: csv, atomically: true, encoding: .utf8)
        let text = try URLListSource(file: csv).whole()
        let csvRows = try #require(text.rows["urls"])
        #expect(csvRows.count == 3 && csvRows[0].declaredWidth == nil && csvRows[0].declaredHeight == nil)
        #expect(csvRows[1].declaredWidth == nil && csvRows[1].declaredHeight == nil && csvRows[2].declaredWidth == 800)
    }

    /// A row whose value is not valid UTF-8 is one problem line naming its row and column; the other rows go on.
    @Test func aRowWithInvalidUTF8IsAProblemLineAndTheRestGoesOn() throws {
        let dir = TemporaryDirectory()
        let file = dir.path("bad.parquet")
        try Self.pyarrow("""
            import sys, pyarrow as pa, pyarrow.parquet as pq
            urls = pa.array([b"http://h/1.jpg", b"http://h/\\xff.jpg", b"http://h/3.jpg", b"http://h/4.jpg"], pa.binary()).cast(pa.string(), safe=False)
            text = pa.array([b"one", b"two", b"bad \\xfe caption", b"four"], pa.binary()).cast(pa.string(), safe=False)
            pq.write_table(pa.table({"URL": urls, "TEXT": text}), sys.argv[1], row_group_size=2)
            """, [file.path])
        let source = try URLListSource(file: file, columns: .init(url: "URL", caption: "TEXT"), parquet: Self.reader).whole()
        #expect(source.problems == ["bad.parquet:2: invalid UTF-8 in column URL", "bad.parquet:3: invalid UTF-8 in column TEXT"])
        let rows = try #require(source.rows["urls"])
        #expect(rows.map(\.imageURL) == ["http://h/1.jpg", "http://h/4.jpg"])
        #expect(rows.map { $0.extra["line"] } == ["1", "4"])
    }

    /// A URL column that is not text (int64, binary, a list of strings) is refused at the columns check, naming its type.
    @Test func aURLColumnThatIsNotTextIsRefusedNamingItsType() throws {
        let dir = TemporaryDirectory()
        try Self.pyarrow("""
            import sys, pyarrow as pa, pyarrow.parquet as pq
            d = sys.argv[1]
            pq.write_table(pa.table({"URL": pa.array([1, 2], pa.int64())}), d + "/int.parquet")
            pq.write_table(pa.table({"URL": pa.array([b"http://h/1.jpg"], pa.binary())}), d + "/bin.parquet")
            pq.write_table(pa.table({"URL": pa.array([["http://h/1.jpg"]], pa.list_(pa.string()))}), d + "/list.parquet")
            pq.write_table(pa.table({"URL": pa.array(["http://h/1.jpg", "http://h/1.jpg"]).dictionary_encode()}), d + "/dict.parquet")
            """, [dir.url.path])
        for (name, type) in [("int", "int64"), ("bin", "binary"), ("list", "list<element: string>")] {
            #expect {
                try URLListSource(file: dir.path("\(name).parquet"), columns: .init(url: "URL"), parquet: Self.reader).whole()
            } throws: { "\($0)".contains("`URL` is \(type), not a string column") && "\($0)".contains("\(name).parquet") }
        }
        let dict = try URLListSource(file: dir.path("dict.parquet"), columns: .init(url: "URL"), parquet: Self.reader).whole()
        #expect(dict.rows["urls"]?.count == 2)
    }

    /// A reader killed by a signal is named with the signal, not as a protocol gap.
    @Test func aReaderKilledByASignalSaysSo() throws {
        let dir = TemporaryDirectory()
        let killed = dir.path("python")
        try "#!/bin/sh\nkill -9 $$\n".write(to: killed, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: killed.path)
        try Self.laionList(rows: 3, at: dir.path("l.parquet"))
        let reader = ParquetRows(python: killed.path, script: Self.reader.script)
        #expect {
            try URLListSource(file: dir.path("l.parquet"), columns: .init(url: "URL"), parquet: reader).whole()
        } throws: { "\($0)".contains("\(killed.path) was killed by signal 9") && !"\($0)".contains("setup") }
    }

    /// Rows that would be stored wrong are problem lines: a NUL in a caption or licence (SQLite would cut it), a URL
    /// with whitespace inside, a licence with a line break, an empty keyword (not silently the fixed one).
    @Test func nulWhitespaceLineBreakAndEmptyKeywordRowsAreProblemLines() throws {
        let dir = TemporaryDirectory()
        let file = dir.path("odd.parquet")
        try Self.pyarrow("""
            import sys, pyarrow as pa, pyarrow.parquet as pq
            pq.write_table(pa.table({
                "URL": ["http://h/1.jpg", "http://h/2.jpg", "http://h/a b.jpg", "http://h/a\\u00a0b.jpg", "http://h/5.jpg", "http://h/6.jpg", "http://h/7.jpg"],
                "TEXT": ["fine", "before\\u0000after", "x", "x", "x", "x", "x"],
                "LICENSE": ["CC BY 4.0", None, None, None, "x\\u0000y", "CC BY\\n4.0", None],
                "kw": ["kimchi", "kimchi", "kimchi", "kimchi", "kimchi", "kimchi", ""],
            }), sys.argv[1])
            """, [file.path])
        let source = try URLListSource(file: file, columns: .init(url: "URL", caption: "TEXT", keyword: "kw"), parquet: Self.reader).whole()
        #expect(source.problems == [
            "odd.parquet:2: `TEXT` contains a NUL character (U+0000), which would cut the stored text short",
            "odd.parquet:3: the URL contains whitespace",
            "odd.parquet:4: the URL contains whitespace",
            "odd.parquet:5: `LICENSE` contains a NUL character (U+0000), which would cut the stored text short",
            "odd.parquet:6: the licence contains a line break or control character",
            "odd.parquet:7: empty `kw`",
        ], "\(source.problems)")
        #expect(source.rows["kimchi"]?.map(\.imageURL) == ["http://h/1.jpg"] && source.rows["urls"] == nil)
    }

    /// Column handling: a name given twice is an error naming it; a list's own `line` column is kept (the row number
    /// goes under `list_line`); a list without rows says so in one line.
    @Test func duplicateColumnsOwnLineColumnAndNoRows() throws {
        let dir = TemporaryDirectory()
        try Self.pyarrow("""
            import sys, pyarrow as pa, pyarrow.parquet as pq
            d = sys.argv[1]
            pq.write_table(pa.Table.from_arrays([pa.array(["http://h/1.jpg"]), pa.array(["x"])], names=["URL", "URL"]), d + "/dups.parquet")
            pq.write_table(pa.table({"URL": ["http://h/1.jpg"], "line": ["the user's"]}), d + "/line.parquet")
            pq.write_table(pa.table({"URL": pa.array([], pa.string())}), d + "/empty.parquet")
            """, [dir.url.path])
        #expect {
            try URLListSource(file: dir.path("dups.parquet"), columns: .init(url: "URL"), parquet: Self.reader).whole()
        } throws: { "\($0)".contains("the column `URL` appears more than once") }
        let line = try #require(try URLListSource(file: dir.path("line.parquet"), columns: .init(url: "URL"), parquet: Self.reader).whole().rows["urls"]?.first)
        #expect(line.extra["line"] == "the user's" && line.extra["list_line"] == "1")
        let empty = try URLListSource(file: dir.path("empty.parquet"), columns: .init(url: "URL"), parquet: Self.reader).whole()
        #expect(empty.problems == ["empty.parquet: the list has no rows"] && empty.rows.isEmpty)
    }
}

