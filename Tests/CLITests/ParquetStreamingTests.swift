import Foundation
import Testing
import _DSBuildTestSupport

/// Issue 19's last part through the command: a LAION-style parquet URL list (made by pyarrow in the interop venv)
/// streams through `dsbuild collect` into the manifest a record batch at a time — the peak memory of the dsbuild
/// process does not grow with the list — and a run killed in the middle of the list resumes without losing or
/// repeating a row. Opt-in like the other tests that run the bundled Python: `DSBUILD_TRAINER_PYTHON`.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["DSBUILD_TRAINER_PYTHON"] != nil))
struct ParquetStreamingTests {
    /// The keywords of the list, one row in ten each, in the order their first rows come (Korean among them).
    static let keywords = ["김치", "bibimbap", "한복", "hanok", "tteok", "gat", "buchae", "jangdok", "yut", "taegeukgi"]
    /// The row without a URL (a problem line), in every list.
    static let badRow = 7
    /// The keywords in the order the list first names them in a good row: the bad row was `buchae`'s first, so
    /// `buchae` comes with its second row, after the three keywords that first came between.
    static let declared = ["김치", "bibimbap", "한복", "hanok", "tteok", "gat", "jangdok", "yut", "taegeukgi", "buchae"]

    /// A LAION-style list of `rows` rows: LAION's columns, a keyword column and one row without a URL; row groups of
    /// 10 000 rows, as LAION's files come.
    static func laionList(rows: Int, at url: URL) throws {
        let made = try InteropPython.run("""
            import sys, pyarrow as pa, pyarrow.parquet as pq
            n, bad = int(sys.argv[2]), int(sys.argv[3])
            keywords = sys.argv[4].split(",")
            pq.write_table(pa.table({
                "SAMPLE_ID": pa.array(range(n), pa.int64()),
                "URL": [None if i + 1 == bad else f"http://127.0.0.1:9/img/{i}.jpg" for i in range(n)],
                "TEXT": [f"a photo of thing number {i} on a table" for i in range(n)],
                "WIDTH": pa.array([640.0 + i % 5 for i in range(n)], pa.float64()),
                "HEIGHT": pa.array([480 + i % 7 for i in range(n)], pa.int64()),
                "LICENSE": ["CC BY 4.0"] * n,
                "NSFW": ["UNLIKELY"] * n,
                "similarity": [0.31] * n,
                "pwatermark": [round(0.01 * (i % 100), 2) for i in range(n)],
                "punsafe": [0.001] * n,
                "keyword": [keywords[i % len(keywords)] for i in range(n)],
            }), sys.argv[1], row_group_size=10000)
            """, [url.path, "\(rows)", "\(badRow)", keywords.joined(separator: ",")])
        try #require(made.status == 0, "pyarrow: \(made.stderr.suffix(2000))")
    }

    static func collectArguments(_ workspace: URL, list: URL) -> [String] {
        ["collect", "--workspace", workspace.path, "--sources", "urls", "--source-file", list.path, "--url-column", "URL",
         "--caption-column", "TEXT", "--keyword-column", "keyword", "--search-only", "--json", "--quiet"]
    }

    /// Runs the command to its end, reading the process's peak resident memory (`VmHWM`, which only grows) from
    /// `/proc` every 10 ms while it runs: the dsbuild process alone, not the Python reader it starts.
    static func runMeasured(_ cli: CommandRunner, _ arguments: [String]) throws -> (result: CommandRunner.Result, peakKB: Int) {
        let running = try cli.start(arguments)
        let status = "/proc/\(running.process.processIdentifier)/status"
        var peak = 0
        while running.process.isRunning {
            if let text = try? String(contentsOfFile: status, encoding: .utf8),
               let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kb = Int(line.split(separator: " ").dropFirst().first ?? "") {
                peak = max(peak, kb)
            }
            usleep(10_000)
        }
        return (running.wait(), peak)
    }

    static func count(_ workspace: URL, _ sql: String) throws -> Int {
        Int(try Hardening.rows(workspace, sql).first?.first ?? "") ?? -1
    }

    @Test func aHundredThousandRowListStreamsInWithFlatMemoryAndKeepsItsColumns() throws {
        let tmp = TemporaryDirectory("dsbuild-parquet-stream")
        let cli = CommandRunner()
        var peaks: [Int: Int] = [:]
        for rows in [10_000, 100_000] {
            let list = tmp.path("laion-\(rows).parquet")
            try Self.laionList(rows: rows, at: list)
            let ws = tmp.path("ws-\(rows)")
            #expect(try cli.run(["init", ws.path, "--quiet"]).status == 0)
            let (collected, peak) = try Self.runMeasured(cli, Self.collectArguments(ws, list: list))
            peaks[rows] = peak
            // One bad row, named by its row number; the rest are candidates; exit 1 says a row was refused.
            #expect(collected.status == 1, "\(collected.stderr.suffix(2000))")
            #expect(collected.stderr.contains("laion-\(rows).parquet:\(Self.badRow): empty `URL`"), "\(collected.stderr.suffix(2000))")
            let summary = try collected.json()
            #expect(summary["input_problems"] as? Int == 1 && summary["keywords_added"] as? Int == Self.keywords.count, "\(summary)")
            #expect(summary["searches"] as? Int == Self.keywords.count, "each keyword searched once on the list: \(summary)")
            #expect(try Self.count(ws, "SELECT COUNT(*) FROM candidates WHERE source = 'urls'") == rows - 1)
            #expect(try Self.count(ws, "SELECT COUNT(DISTINCT source_id) FROM candidates") == rows - 1)
            // Keywords in the order the list first names them; each searched once, with its rows counted.
            #expect(try Hardening.rows(ws, "SELECT text FROM keywords ORDER BY id").map(\.[0]) == Self.declared)
            #expect(try Self.count(ws, "SELECT COUNT(*) FROM source_searches WHERE source = 'urls' AND status = 'ok'") == Self.keywords.count)
            #expect(try Self.count(ws, "SELECT SUM(found) FROM source_searches WHERE source = 'urls'") == rows - 1)
            // The last row kept its caption, declared size, licence and every other column (`extra`), and its place.
            let last = try Hardening.rows(ws, """
                SELECT k.text, c.description, c.declared_width, c.declared_height, c.license, c.extra, c.rank
                FROM candidates c JOIN keywords k ON k.id = c.keyword_id WHERE c.image_url = 'http://127.0.0.1:9/img/\(rows - 1).jpg'
                """)
            let row = try #require(last.first, "the last row is a candidate")
            #expect(row[0] == Self.keywords[(rows - 1) % Self.keywords.count])
            #expect(row[1] == "a photo of thing number \(rows - 1) on a table")
            #expect(row[2] == "\(640 + (rows - 1) % 5)" && row[3] == "\(480 + (rows - 1) % 7)")
            #expect(row[4] == "cc-by", "the licence normalised: \(row[4])")
            let extra = try #require(try JSONSerialization.jsonObject(with: Data(row[5].utf8)) as? [String: String])
            #expect(extra["pwatermark"] == "\(Double((rows - 1) % 100) / 100)" && extra["punsafe"] == "0.001", "\(extra)")
            #expect(extra["SAMPLE_ID"] == "\(rows - 1)" && extra["NSFW"] == "UNLIKELY" && extra["similarity"] == "0.31", "\(extra)")
            #expect(extra["LICENSE"] == "CC BY 4.0" && extra["line"] == "\(rows)", "\(extra)")
            #expect(row[6] == "\(rows / Self.keywords.count - 1)", "its place among its keyword's rows")
        }
        let small = try #require(peaks[10_000]), big = try #require(peaks[100_000])
        print("dsbuild collect peak RSS: \(small / 1024) MiB at 10k rows, \(big / 1024) MiB at 100k rows")
        #expect(small > 0 && big > 0)
        // Ten times the rows, not materially more memory: the list is never held, in any form.
        #expect(big < small + 40 * 1024, "peak RSS \(big / 1024) MiB at 100k rows vs \(small / 1024) MiB at 10k")
    }

    @Test func aCollectKilledMidListResumesWithoutLosingOrRepeatingRows() throws {
        let tmp = TemporaryDirectory("dsbuild-parquet-resume")
        let rows = 100_000
        let list = tmp.path("laion.parquet")
        try Self.laionList(rows: rows, at: list)
        let cli = CommandRunner()
        let ws = tmp.path("ws")
        #expect(try cli.run(["init", ws.path, "--quiet"]).status == 0)
        let running = try cli.start(Self.collectArguments(ws, list: list))
        defer { running.kill() }
        let started = Hardening.waitUntil(60) { (try? Self.count(ws, "SELECT COUNT(*) FROM candidates")) ?? 0 > 0 }
        running.kill()
        _ = running.wait()
        try #require(started, "some batches were written before the kill")
        let before = try Self.count(ws, "SELECT COUNT(*) FROM candidates")
        #expect(before > 0 && before < rows - 1, "killed in the middle of the list: \(before) rows stored")
        #expect(try Self.count(ws, "SELECT COUNT(*) FROM source_searches") == 0, "no keyword is searched until the list is read through")
        let rerun = try cli.run(Self.collectArguments(ws, list: list))
        #expect(rerun.status == 1 && rerun.stderr.contains("laion.parquet:\(Self.badRow): empty `URL`"), "\(rerun.stderr.suffix(2000))")
        #expect(try Self.count(ws, "SELECT COUNT(*) FROM candidates") == rows - 1, "every row once")
        #expect(try Self.count(ws, "SELECT COUNT(*) FROM (SELECT DISTINCT keyword_id, rank FROM candidates)") == rows - 1,
                "each row in its own place")
        #expect(try Hardening.rows(ws, "SELECT text FROM keywords ORDER BY id").map(\.[0]) == Self.declared)
        #expect(try Self.count(ws, "SELECT SUM(found) FROM source_searches WHERE source = 'urls' AND status = 'ok'") == rows - 1)
        // Read through once, the list's keywords are searched: a third run adds nothing, searches nothing again.
        let third = try cli.run(Self.collectArguments(ws, list: list))
        #expect(try third.json()["searches"] as? Int == 0, "\(third.stdout)")
        #expect(try Self.count(ws, "SELECT COUNT(*) FROM candidates") == rows - 1)
    }

    /// Ctrl-C (or SIGTERM) in the middle of a list stops the read at the next batch: exit 130, the run recorded
    /// `interrupted`, no keyword marked searched, the reader ended; the next run finishes the list.
    @Test(arguments: [SIGINT, SIGTERM])
    func aListInterruptedMidwayIsRecordedInterruptedAndFinishedByTheNextRun(_ signal: Int32) throws {
        let tmp = TemporaryDirectory("dsbuild-parquet-interrupt")
        let rows = 100_000
        let list = tmp.path("laion.parquet")
        try Self.laionList(rows: rows, at: list)
        let cli = CommandRunner()
        let ws = tmp.path("ws")
        #expect(try cli.run(["init", ws.path, "--quiet"]).status == 0)
        let running = try cli.start(Self.collectArguments(ws, list: list))
        defer { running.kill() }
        let started = Hardening.waitUntil(60) { (try? Self.count(ws, "SELECT COUNT(*) FROM candidates")) ?? 0 > 0 }
        Glibc.kill(running.process.processIdentifier, signal)
        let stopped = running.wait()
        try #require(started, "some batches were written before the signal")
        #expect(stopped.status == 130, "\(stopped.stderr.suffix(2000))")
        let runs = try Hardening.runs(ws)
        #expect(runs.last { $0.command == "search" }?.status == "interrupted", "\(runs)")
        #expect(try Self.count(ws, "SELECT COUNT(*) FROM candidates") < rows - 1)
        #expect(try Self.count(ws, "SELECT COUNT(*) FROM source_searches") == 0)
        let rerun = try cli.run(Self.collectArguments(ws, list: list))
        #expect(rerun.status == 1 && (try? rerun.json()["searches"] as? Int) == Self.keywords.count, "\(rerun.stdout)")
        #expect(try Self.count(ws, "SELECT COUNT(*) FROM candidates") == rows - 1)
    }
}
