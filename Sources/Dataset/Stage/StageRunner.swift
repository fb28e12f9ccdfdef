import Foundation
import GRDB
import Logging

/// The counts a stage run produced, by outcome key.
public struct StageSummary: Sendable, Equatable {
    public var stage: String
    public var pending: Int
    public var counts: [String: Int]
    public var failures: Int
    public var interrupted: Bool
    public var seconds: Double
    /// Items whose request was queued for a batch (`ChatError.Code.deferred`): nothing was recorded for them and they
    /// stay pending; a pipeline stops after a step that deferred any, as after a kill, and runs again once the
    /// batch's answers are in the cache.
    public var deferred: Int

    public var succeeded: Int { pending - failures - deferred }

    public init(stage: String, pending: Int = 0, counts: [String: Int] = [:], failures: Int = 0,
                interrupted: Bool = false, seconds: Double = 0, deferred: Int = 0) {
        self.stage = stage
        self.pending = pending
        self.counts = counts
        self.failures = failures
        self.interrupted = interrupted
        self.seconds = seconds
        self.deferred = deferred
    }
}

/// Runs a `Stage`: computes pending work (all at once, or a page at a time for a `PagedStage`), runs it with at most `concurrency` items in flight (a task group
/// that adds one task as each finishes), records each outcome in its own transaction, reports progress, and
/// keeps a row in `runs` from start to end. Cancelling the calling task stops new work; items already done are
/// recorded, nothing is half-written. Whole-set steps (`WholeSetStage`) run through it the same way.
///
/// Commands build one runner (`CommandContext.runner` in the CLI) and hand it to the modules' pipelines.
public struct StageRunner: Sendable {
    public let manifest: Manifest
    public let progress: ProgressReporter
    public let logger: Logger

    public init(manifest: Manifest, progress: ProgressReporter, logger: Logger) {
        self.manifest = manifest
        self.progress = progress
        self.logger = logger
    }

    public func run<S: Stage>(_ stage: S, concurrency: Int, settingsJSON: String = "{}") async throws -> StageSummary {
        try await drive(stage, concurrency: concurrency, settingsJSON: settingsJSON) {
            let items = try await stage.pending(in: manifest)
            var served = false
            return PendingFeed(total: items.count) {
                defer { served = true }
                return served ? nil : items
            }
        }
    }

    /// Runs a `PagedStage`: the same loop, but pending work is fetched a page at a time as the items in hand run
    /// out, so at most one page and the items in flight are held.
    public func run<S: PagedStage>(_ stage: S, concurrency: Int, settingsJSON: String = "{}") async throws -> StageSummary {
        try await drive(stage, concurrency: concurrency, settingsJSON: settingsJSON) {
            let total = try await stage.pendingCount(in: manifest)
            var cursor: S.Cursor? = nil
            var done = false
            return PendingFeed(total: total) {
                guard !done else { return nil }
                let page = try await stage.pendingPage(in: manifest, after: cursor)
                cursor = page.next
                done = page.next == nil
                return page.items
            }
        }
    }

    /// Pending work as the loop consumes it: a total for progress, and pages until `next` returns nil.
    private struct PendingFeed<Item> {
        var total: Int
        var next: () async throws -> [Item]?
    }

    /// The loop every per-item stage runs in: a task group that adds one task as each finishes, each outcome
    /// recorded in its own transaction, progress, cancellation and the `runs` row.
    private func drive<S: Stage>(_ stage: S, concurrency: Int, settingsJSON: String,
                                 feed makeFeed: () async throws -> PendingFeed<S.Item>) async throws -> StageSummary {
        let run = StageRun(id: try RunRecord.start(command: stage.name, settingsJSON: settingsJSON, in: manifest), command: stage.name)
        let runID = run.id
        let started = Date()
        var summary = StageSummary(stage: stage.name)
        do {
            let feed = try await makeFeed()
            summary.pending = feed.total
            progress.start(stage.name, total: feed.total)
            var buffer: [S.Item] = []
            var exhausted = false
            var served = 0
            /// The next pending item, fetching pages as the buffer runs out (nil: no more work).
            func nextItem() async throws -> S.Item? {
                while buffer.isEmpty && !exhausted {
                    if let page = try await feed.next() { buffer = page.reversed() } else { exhausted = true }
                }
                served += buffer.isEmpty ? 0 : 1
                return buffer.popLast()
            }
            try await withThrowingTaskGroup(of: (S.Item, S.Outcome?).self) { group in
                func addTask() async throws {
                    guard let item = try await nextItem() else { return }
                    group.addTask {
                        do {
                            return (item, try await stage.work(on: item))
                        } catch let error as ChatError where error.isDeferred {
                            // Queued for a batch: no outcome, nothing recorded, the item stays pending.
                            return (item, nil)
                        }
                    }
                }
                for _ in 0..<max(concurrency, 1) { try await addTask() }
                while let (item, result) = try await group.next() {
                    guard let outcome = result else {
                        summary.deferred += 1
                        summary.counts["deferred", default: 0] += 1
                        progress.advance(failed: false)
                        if Task.isCancelled { summary.interrupted = true; continue }
                        try await addTask()
                        continue
                    }
                    try await manifest.asyncWrite { db in try stage.record(outcome, for: item, in: db, run: run) }
                    let cls = stage.classify(outcome)
                    summary.counts[cls.key, default: 0] += 1
                    if cls.failed {
                        summary.failures += 1
                        if let message = cls.message { progress.message("error: \(SecretRedactor.redact(message))") }
                    }
                    progress.advance(failed: cls.failed)
                    if Task.isCancelled {
                        summary.interrupted = true
                        continue
                    }
                    try await addTask()
                }
            }
            // A paged count is taken before the work: what was actually there wins when the manifest grew meanwhile.
            summary.pending = max(summary.pending, served)
        } catch is CancellationError {
            summary.interrupted = true
        } catch where Task.isCancelled {
            // Work cut short by the cancellation may surface as its own error (a cancelled transfer): an interruption.
            logger.debug("interrupted: \(error)")
            summary.interrupted = true
        } catch {
            summary.seconds = Date().timeIntervalSince(started)
            progress.finish()
            try? RunRecord.finish(id: runID, status: (error as? any RunStopping)?.runStatus ?? "error", summary: summary, in: manifest)
            throw error
        }
        progress.finish()
        summary.seconds = Date().timeIntervalSince(started)
        if Task.isCancelled { summary.interrupted = true }
        // A pass that queued requests for a batch did not finish its items: `deferred` (the next pass records them).
        let status = summary.interrupted ? "interrupted" : summary.failures > 0 ? "failed" : summary.deferred > 0 ? "deferred" : "ok"
        try RunRecord.finish(id: runID, status: status, summary: summary, in: manifest)
        return summary
    }

    /// Runs a whole-set step with its own `runs` row: `ok`, `failed` (it named failures), `interrupted` (the task
    /// was cancelled; the result is kept when the step returned one) or `error` (rethrown).
    public func run<S: WholeSetStage>(_ stage: S, settingsJSON: String = "{}") async throws -> WholeSetOutcome<S.Result> {
        let run = StageRun(id: try RunRecord.start(command: stage.name, settingsJSON: settingsJSON, in: manifest), command: stage.name)
        let started = Date()
        var summary = StageSummary(stage: stage.name)
        var result: S.Result?
        do {
            let value = try await stage.run(in: StageContext(manifest: manifest, progress: progress, logger: logger, run: run))
            result = value
            summary.interrupted = !stage.isComplete(value)
            summary.counts = stage.counts(of: value)
            let failures = stage.failures(in: value)
            summary.failures = failures.count
            for message in failures { progress.message("error: \(SecretRedactor.redact(message))") }
        } catch is CancellationError {
            summary.interrupted = true
        } catch where Task.isCancelled {
            logger.debug("interrupted: \(error)")
            summary.interrupted = true
        } catch {
            summary.seconds = Date().timeIntervalSince(started)
            try? RunRecord.finish(id: run.id, status: (error as? any RunStopping)?.runStatus ?? "error", summary: summary, in: manifest)
            throw error
        }
        summary.seconds = Date().timeIntervalSince(started)
        try RunRecord.finish(id: run.id, status: summary.interrupted ? "interrupted" : (summary.failures > 0 ? "failed" : "ok"),
                             summary: summary, in: manifest)
        return WholeSetOutcome(result: result, summary: summary)
    }
}
