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

    public var succeeded: Int { pending - failures }

    public init(stage: String, pending: Int = 0, counts: [String: Int] = [:], failures: Int = 0,
                interrupted: Bool = false, seconds: Double = 0) {
        self.stage = stage
        self.pending = pending
        self.counts = counts
        self.failures = failures
        self.interrupted = interrupted
        self.seconds = seconds
    }
}

/// Runs a `Stage`: computes pending work, runs it with at most `concurrency` items in flight (a task group
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
        let run = StageRun(id: try RunRecord.start(command: stage.name, settingsJSON: settingsJSON, in: manifest), command: stage.name)
        let runID = run.id
        let started = Date()
        var summary = StageSummary(stage: stage.name)
        do {
            let items = try await stage.pending(in: manifest)
            summary.pending = items.count
            progress.start(stage.name, total: items.count)
            try await withThrowingTaskGroup(of: (Int, S.Outcome).self) { group in
                var next = 0
                func addTask() {
                    let index = next
                    let item = items[index]
                    next += 1
                    group.addTask { (index, try await stage.work(on: item)) }
                }
                for _ in 0..<min(max(concurrency, 1), items.count) { addTask() }
                while let (index, outcome) = try await group.next() {
                    let item = items[index]
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
                    if next < items.count { addTask() }
                }
            }
        } catch is CancellationError {
            summary.interrupted = true
        } catch where Task.isCancelled {
            // Work cut short by the cancellation may surface as its own error (a cancelled transfer): an interruption.
            logger.debug("interrupted: \(error)")
            summary.interrupted = true
        } catch {
            summary.seconds = Date().timeIntervalSince(started)
            progress.finish()
            try? RunRecord.finish(id: runID, status: "error", summary: summary, in: manifest)
            throw error
        }
        progress.finish()
        summary.seconds = Date().timeIntervalSince(started)
        if Task.isCancelled { summary.interrupted = true }
        try RunRecord.finish(id: runID, status: summary.interrupted ? "interrupted" : (summary.failures > 0 ? "failed" : "ok"),
                             summary: summary, in: manifest)
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
            try? RunRecord.finish(id: run.id, status: "error", summary: summary, in: manifest)
            throw error
        }
        summary.seconds = Date().timeIntervalSince(started)
        try RunRecord.finish(id: run.id, status: summary.interrupted ? "interrupted" : (summary.failures > 0 ? "failed" : "ok"),
                             summary: summary, in: manifest)
        return WholeSetOutcome(result: result, summary: summary)
    }
}
