import Dataset
import Foundation
import GRDB
import Synchronization
import Testing
import _DSBuildTestSupport

/// The runner's contract for both shapes of stage: one `runs` row per run, opened before the work with the
/// settings, closed with the counts and a status that says what happened; the run handed to the stage is that row.
@Suite struct StageRunnerTests {
    /// A whole-set step that writes one `workspace_info` row per unit, and can fail items, stop when cancelled or throw.
    struct Units: WholeSetStage {
        enum Mode: Sendable { case ok, failItems, throwError, cancelAfter(Int) }
        let name = "test.units"
        let units: Int
        let mode: Mode
        let seenRun = SeenRun()

        struct Result: Sendable { var done = 0; var total = 0; var failed: [String] = [] }

        func run(in context: StageContext) async throws -> Result {
            seenRun.withLock { $0 = context.run }
            var result = Result(total: units)
            for i in 0..<units {
                if case .cancelAfter(let n) = mode, i == n { withUnsafeCurrentTask { $0?.cancel() } }
                if Task.isCancelled { break }
                if case .throwError = mode, i == 1 { throw CocoaError(.fileWriteOutOfSpace) }
                try context.manifest.write { db in
                    try db.execute(sql: "INSERT INTO workspace_info(key, value) VALUES (?, ?)", arguments: ["unit\(i)", "\(context.run.id)"])
                }
                result.done += 1
                if case .failItems = mode, i % 2 == 0 { result.failed.append("unit \(i): refused") }
            }
            return result
        }

        func counts(of result: Result) -> [String: Int] { ["done": result.done] }
        func failures(in result: Result) -> [String] { result.failed }
        func isComplete(_ result: Result) -> Bool { result.done == result.total }
    }

    /// Where a step notes the run it was handed.
    final class SeenRun: Sendable {
        private let value = Mutex<StageRun?>(nil)
        func withLock<T>(_ body: (inout StageRun?) -> T) -> T { value.withLock { body(&$0) } }
    }

    /// A per-item stage that records the run it was handed.
    struct Items: Stage {
        let name = "test.items"
        func pending(in manifest: Manifest) async throws -> [Int] { [1, 2, 3] }
        func work(on item: Int) async throws -> Int { item }
        func record(_ outcome: Int, for item: Int, in db: Database, run: StageRun) throws {
            try db.execute(sql: "INSERT INTO workspace_info(key, value) VALUES (?, ?)", arguments: ["item\(item)", "\(run.id)|\(run.command)"])
        }
        func classify(_ outcome: Int) -> StageOutcomeClass { outcome == 2 ? StageOutcomeClass(key: "two", failed: true) : .ok }
    }

    /// A per-item stage whose even items are queued for a batch (`ChatError.deferred`).
    struct DeferringItems: Stage {
        let name = "test.deferring"
        func pending(in manifest: Manifest) async throws -> [Int] { Array(1...5) }
        func work(on item: Int) async throws -> Int {
            if item % 2 == 0 { throw ChatError(.deferred, "queued for the Batch API") }
            return item
        }
        func record(_ outcome: Int, for item: Int, in db: Database, run: StageRun) throws {
            try db.execute(sql: "INSERT INTO workspace_info(key, value) VALUES (?, ?)", arguments: ["deferring\(item)", "\(item)"])
        }
        func classify(_ outcome: Int) -> StageOutcomeClass { .ok }
    }

    @Test func deferredItemsAreCountedNotRecordedAndNoFailure() async throws {
        let (tmp, w) = try workspace()
        _ = tmp
        let summary = try await StageRunner.quiet(w).run(DeferringItems(), concurrency: 2)
        #expect(summary.deferred == 2 && summary.failures == 0 && !summary.interrupted && summary.succeeded == 3)
        #expect(try values(w, "deferring") == ["1", "3", "5"], "nothing recorded for a deferred item")
        let status = try w.manifest.read { db in try String.fetchOne(db, sql: "SELECT status FROM runs WHERE command = 'test.deferring'") }
        #expect(status == "deferred")
    }

    func workspace() throws -> (TemporaryDirectory, Workspace) {
        let tmp = TemporaryDirectory("dsbuild-runner")
        return (tmp, try Workspace.create(at: tmp.path("ws")))
    }

    func row(_ w: Workspace, _ id: Int64) throws -> (command: String, status: String, settings: String, counts: String) {
        try w.manifest.read { db in
            let r = try #require(try Row.fetchOne(db, sql: "SELECT command, status, settings, counts FROM runs WHERE id = ?", arguments: [id]))
            return (r["command"], r["status"], r["settings"], r["counts"] ?? "")
        }
    }

    func values(_ w: Workspace, _ prefix: String) throws -> [String] {
        try w.manifest.read { db in try String.fetchAll(db, sql: "SELECT value FROM workspace_info WHERE key LIKE ? ORDER BY key", arguments: ["\(prefix)%"]) }
    }

    @Test func aWholeSetStepGetsItsOwnRowWithSettingsCountsAndTheRunItWasHanded() async throws {
        let (tmp, w) = try workspace()
        _ = tmp
        let stage = Units(units: 3, mode: .ok)
        let outcome = try await StageRunner.quiet(w).run(stage, settingsJSON: #"{"threshold":0.8}"#)
        let run = try #require(stage.seenRun.withLock { $0 })
        #expect(run.command == "test.units")
        let r = try row(w, run.id)
        #expect(r.command == "test.units" && r.status == "ok" && r.settings == #"{"threshold":0.8}"#)
        #expect(r.counts.contains(#""done":3"#))
        #expect(outcome.result?.done == 3 && !outcome.summary.interrupted && outcome.summary.failures == 0)
        #expect(try values(w, "unit") == ["\(run.id)", "\(run.id)", "\(run.id)"])
    }

    @Test func failedItemsMakeTheRowFailedAndAreCounted() async throws {
        let (tmp, w) = try workspace()
        _ = tmp
        let stage = Units(units: 3, mode: .failItems)
        let outcome = try await StageRunner.quiet(w).run(stage)
        #expect(outcome.summary.failures == 2)
        #expect(try row(w, try #require(stage.seenRun.withLock { $0 }).id).status == "failed")
    }

    @Test func aCancelledStepKeepsItsWholeUnitsAndIsRecordedInterrupted() async throws {
        let (tmp, w) = try workspace()
        _ = tmp
        let stage = Units(units: 5, mode: .cancelAfter(2))
        let runner = StageRunner.quiet(w)
        let outcome = try await Task { try await runner.run(stage) }.value
        #expect(outcome.summary.interrupted)
        #expect(outcome.result?.done == 2, "the units before the cancellation are kept")
        #expect(try values(w, "unit").count == 2)
        #expect(try row(w, try #require(stage.seenRun.withLock { $0 }).id).status == "interrupted")
    }

    @Test func anErrorClosesTheRowAsErrorAndIsRethrown() async throws {
        let (tmp, w) = try workspace()
        _ = tmp
        let stage = Units(units: 3, mode: .throwError)
        await #expect(throws: CocoaError.self) { _ = try await StageRunner.quiet(w).run(stage) }
        #expect(try row(w, try #require(stage.seenRun.withLock { $0 }).id).status == "error")
    }

    @Test func aPerItemStageRecordsEachOutcomeWithTheRunItsRowIs() async throws {
        let (tmp, w) = try workspace()
        _ = tmp
        let summary = try await StageRunner.quiet(w).run(Items(), concurrency: 2, settingsJSON: #"{"k":1}"#)
        #expect(summary.pending == 3 && summary.failures == 1 && summary.counts == ["ok": 2, "two": 1])
        let ids = try w.manifest.read { db in try Int64.fetchAll(db, sql: "SELECT id FROM runs WHERE command = 'test.items'") }
        #expect(ids.count == 1)
        #expect(try values(w, "item") == Array(repeating: "\(ids[0])|test.items", count: 3))
        #expect(try row(w, ids[0]).status == "failed")
    }

    /// A paged stage over 0..<total in pages of `pageSize` (page 1 is empty), noting at each page request how many
    /// items had been started and recorded so far.
    final class Pages: PagedStage, @unchecked Sendable {
        let name = "test.pages"
        let total: Int
        let pageSize: Int
        private let state = Mutex<(started: Int, recorded: Int, requests: [(cursor: Int?, started: Int, recorded: Int)])>((0, 0, []))

        init(total: Int, pageSize: Int) {
            self.total = total
            self.pageSize = pageSize
        }

        var requests: [(cursor: Int?, started: Int, recorded: Int)] { state.withLock { $0.requests } }

        func pendingCount(in manifest: Manifest) async throws -> Int { total }
        func pendingPage(in manifest: Manifest, after cursor: Int?) async throws -> PendingPage<Int, Int> {
            state.withLock { $0.requests.append((cursor, $0.started, $0.recorded)) }
            let page = (cursor ?? -1) + 1
            // Page 1 is empty: the runner must go on to page 2.
            let start = page == 0 ? 0 : (page - 1) * pageSize
            let items = page == 1 ? [] : Array(start..<min(start + pageSize, total))
            let last = page > 1 && start + pageSize >= total
            return PendingPage(items: items, next: last ? nil : page)
        }
        func work(on item: Int) async throws -> Int {
            state.withLock { $0.started += 1 }
            return item
        }
        func record(_ outcome: Int, for item: Int, in db: Database, run: StageRun) throws {
            state.withLock { $0.recorded += 1 }
            try db.execute(sql: "INSERT INTO workspace_info(key, value) VALUES (?, ?)", arguments: [String(format: "page%04d", item), "\(outcome)"])
        }
        func classify(_ outcome: Int) -> StageOutcomeClass { .ok }
    }

    @Test func aPagedStageIsFetchedAPageAtATimeAsItsItemsRunOut() async throws {
        let (tmp, w) = try workspace()
        _ = tmp
        // Pages: [0..<10], [], [10..<20], [20..<25].
        let stage = Pages(total: 25, pageSize: 10)
        let summary = try await StageRunner.quiet(w).run(stage, concurrency: 3)
        #expect(summary.pending == 25 && summary.counts == ["ok": 25] && !summary.interrupted)
        #expect(try values(w, "page") == (0..<25).map(String.init), "every item of every page, the empty one skipped")
        let requests = stage.requests
        #expect(requests.map(\.cursor) == [nil, 0, 1, 2])
        // A page is asked for only when the one before is used up: never all of them up front.
        // With 3 in flight, the 11th item is needed when the 8th outcome is recorded, the 21st at the 18th.
        #expect(requests[0].started == 0 && requests[0].recorded == 0)
        #expect(requests[1].recorded == 8 && requests[2].recorded == 8, "page 2 came when page 0 was used up, not before")
        #expect((8...10).contains(requests[2].started), "no item of a later page had started")
        #expect(requests[3].recorded == 18 && (18...20).contains(requests[3].started))
        // The runner's `pending` (for tests and dry runs) is every page in order.
        #expect(try await stage.pending(in: w.manifest) == Array(0..<25))
    }
}
