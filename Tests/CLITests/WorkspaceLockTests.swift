import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

/// Case 3 of issue 15: two writers on one workspace used to corrupt each other (a second collect deleted the
/// first one's `.part` files, every URL was fetched twice). A writer now holds `dsbuild.lock`; a second fails at
/// once naming the holder; readers work meanwhile; a lock whose holder is gone is taken.
@Suite(.serialized) struct WorkspaceLockTests {
    let cli = CommandRunner()

    /// Holds an flock on `path` from another process (`flock(1)`), as a live dsbuild would.
    func holdFlock(_ path: URL) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        process.arguments = ["-n", path.path, "sleep", "20"]
        try process.run()
        return process
    }

    @Test func secondCollectFailsAtOnceNamingTheFirstAndStatusStillReads() throws {
        let tmp = TemporaryDirectory()
        let files = try Hardening.images(count: 4, maxBytes: 200_000)
        let server = try Hardening.imageServer(files, delay: .seconds(2))
        defer { server.stop() }
        try Hardening.urlList(files, server: server, keyword: "kimchi", at: tmp.path("urls.csv"))
        let w = tmp.path("w")
        #expect(try cli.run(["init", w.path]).status == 0)
        let collect = ["collect", "--workspace", w.path, "--sources", "urls", "--source-file", tmp.path("urls.csv").path,
                       "--keyword-column", "keyword", "--concurrency", "1", "--per-host", "1", "--quiet",
                       "--allow-host", "127.0.0.1:\(server.port)"]
        let first = try cli.start(collect)
        defer { first.kill() }
        #expect(Hardening.waitUntil(30) { server.totalRequests > 0 }, "the first collect is downloading")
        let runsBefore = try Hardening.runs(w).count

        let started = Date()
        let second = try cli.run(collect)
        #expect(second.status != 0)
        #expect(Date().timeIntervalSince(started) < 10, "fails at once, does not wait")
        #expect(second.stderr.contains("workspace \(w.path) is in use by pid \(first.process.processIdentifier) (dsbuild collect, started 20"),
                "\(second.stderr)")
        #expect(try Hardening.runs(w).count == runsBefore, "the refused writer recorded nothing")

        let status = try cli.run(["status", "--workspace", w.path, "--json"])
        #expect(status.status == 0, "a reader does not need the lock: \(status.stderr)")

        let done = first.wait()
        #expect(done.status == 0, "\(done.stderr)")
        for file in files {
            #expect(server.requestCount("/img/\(file.lastPathComponent)") == 1, "each URL fetched once")
        }
        let ok = try Hardening.rows(w, "SELECT COUNT(*) FROM downloads WHERE status = 'ok'")
        #expect(ok == [["\(files.count)"]])
    }

    /// A command killed outright cannot close its run row; the next writer (holding the lock, so no other writer
    /// is alive) marks it `killed`. A reader, which cannot know whether the writer lives, leaves it alone.
    @Test func aRunRowLeftRunningByAKilledWriterIsClosedAsKilledByTheNextWriterNotByAReader() throws {
        let tmp = TemporaryDirectory()
        let files = try Hardening.images(count: 2, maxBytes: 200_000)
        let server = try Hardening.imageServer(files, delay: .seconds(3))
        defer { server.stop() }
        try Hardening.urlList(files, server: server, keyword: "kimchi", at: tmp.path("urls.csv"))
        let w = tmp.path("w")
        #expect(try cli.run(["init", w.path]).status == 0)
        let collect = ["collect", "--workspace", w.path, "--sources", "urls", "--source-file", tmp.path("urls.csv").path,
                       "--keyword-column", "keyword", "--concurrency", "1", "--per-host", "1", "--quiet",
                       "--allow-host", "127.0.0.1:\(server.port)"]
        let first = try cli.start(collect)
        #expect(Hardening.waitUntil(30) { Hardening.isRunning(w, "download") }, "the first collect is downloading")
        first.kill()
        #expect(first.wait().signalled)
        let left = try Hardening.runs(w).filter { $0.status == "running" }.map(\.command)
        #expect(left.contains("download"), "the killed collect left its row running: \(left)")

        #expect(try cli.run(["status", "--workspace", w.path, "--json"]).status == 0)
        #expect(try Hardening.runs(w).filter { $0.status == "running" }.map(\.command) == left, "a reader changes nothing")

        let second = try cli.run(collect)
        #expect(second.status == 0, "\(second.stderr)")
        let runs = try Hardening.runs(w)
        #expect(!runs.contains { $0.status == "running" }, "\(runs)")
        #expect(runs.filter { $0.status == RunRecord.killedStatus }.map(\.command) == left, "\(runs)")
        #expect(runs.last?.status == "ok", "\(runs)")
    }

    @Test func aLockHeldByALiveHolderRefusesAndOneWhoseHolderIsGoneIsTaken() throws {
        let tmp = TemporaryDirectory()
        let w = tmp.path("w")
        #expect(try cli.run(["init", w.path]).status == 0)
        let lock = w.appendingPathComponent("dsbuild.lock")

        // A live holder (this test process) with its flock held: refused, naming it.
        try "\(getpid())\ncollect\n2026-12-02T10:00:00Z\n".write(to: lock, atomically: false, encoding: .utf8)
        let holder = try holdFlock(lock)
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }  // never a pid reaped and perhaps reused
        usleep(300_000)
        let refused = try cli.run(["filter", "--workspace", w.path])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("is in use by pid \(getpid()) (dsbuild collect, started 2026-12-02T10:00:00Z)"), "\(refused.stderr)")

        // The recorded holder is dead (its descriptor lives on in a child): the lock is stale and taken.
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()
        try "\(dead.processIdentifier)\ncollect\n2026-12-02T10:00:00Z\n".write(to: lock, atomically: false, encoding: .utf8)
        let taken = try cli.run(["filter", "--workspace", w.path])
        #expect(taken.status == 0, "\(taken.stderr)")
        #expect(try Hardening.runs(w).map(\.command) == ["filter", "filter.duplicates"], "the rules, then duplicate grouping")
    }

    @Test func collectRemovesOnlyPartFilesOfProcessesThatAreGone() throws {
        let tmp = TemporaryDirectory()
        let files = try Hardening.images(count: 2, maxBytes: 200_000)
        let source = try Hardening.directorySource(files, keyword: "hanbok", in: tmp.path("src"))
        let w = tmp.path("w")
        #expect(try cli.run(["init", w.path]).status == 0)
        let parts = w.appendingPathComponent("images/.tmp")
        try FileManager.default.createDirectory(at: parts, withIntermediateDirectories: true)
        let live = Process()
        live.executableURL = URL(fileURLWithPath: "/bin/sleep")
        live.arguments = ["30"]
        try live.run()
        defer { if live.isRunning { kill(live.processIdentifier, SIGKILL) }; live.waitUntilExit() }
        let livePart = parts.appendingPathComponent("dl-\(live.processIdentifier)-\(UUID().uuidString).part")
        let deadPart = parts.appendingPathComponent("dl-2147483000-\(UUID().uuidString).part")
        try Data("in flight".utf8).write(to: livePart)
        try Data("left behind".utf8).write(to: deadPart)
        let result = try cli.run(["collect", "--workspace", w.path, "--sources", "directory", "--source-file", source.path, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(FileManager.default.fileExists(atPath: livePart.path), "another live process's part file is never deleted")
        #expect(!FileManager.default.fileExists(atPath: deadPart.path), "a dead process's part file is cleaned up")
    }
}
