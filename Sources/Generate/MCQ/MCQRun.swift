import Dataset
import Foundation

/// `mcq`'s generation, in its one order, every step through the command's runner: the split (`SplitStage`),
/// Type 1 (`Type1Stage`), Type 2 (`Type2Stage`, per keyword and variant), finalize (`FinalizeStage`: dedup and
/// answer balancing over what this run created), the answer-key verifier (`AnswerKeyStage`) when `mcq.verify` is
/// on, the disputes (`DisputedQuestions`: verdicts to statuses, as `mcq.keep_disputed` says), then the blind check
/// (`BlindCheck`) when asked for. Questions are verified once their keys are placed, so a verdict is about the key
/// as it stays.
///
/// Answer letters are balanced over the whole set a run creates, so a set cut short must not be placed: when
/// Type 2 is interrupted, the Type 2 questions it wrote are taken back (their requests stay cached, so the next run
/// writes them again for free and places them with the rest), Type 1 — complete, balanced on its own — is
/// finalized, and the run stops: no blind check. A process killed outright leaves its questions unplaced, and the
/// next run places them with the ones it adds, as one set.
/// In batch mode a step that queued requests ends the run after it (`Result.deferred`), as a kill would.
/// A fatal model error (`ChatError.isFatal`) and a changed split (`ExperimentSplit.SettingsChanged`) are thrown.
public struct MCQRun: Sendable {
    /// What each step did.
    public struct Result: Sendable {
        public var assignment = ExperimentSplit.Assignment()
        /// Type 1 counts, when Type 1 was asked for.
        public var type1: MCQPipeline.Counts?
        /// Type 2's run, when Type 2 was asked for.
        public var type2: StageSummary?
        /// Planned Type 2 questions that cannot be written, one line each.
        public var type2Skipped: [String] = []
        /// The finalize counts (nil when interrupted before it).
        public var finalized: MCQPipeline.Counts?
        /// The answer-key verifier's run, when `mcq.verify` is on.
        public var verify: StageSummary?
        /// What applying the verdicts did.
        public var disputes: DisputedQuestions.Result?
        /// The blind check's report, when it ran.
        public var blindCheck: BlindCheck.Report?
        public var interrupted = false
        /// Requests were queued for a batch (`llm.batch`): the run stopped after that step, as a kill would, and is
        /// run again once the answers are in the cache.
        public var deferred = false
        /// Some item failed (a Type 2 request, a blind-check request): the exit status.
        public var failed = false
    }

    public let settings: MCQSettings
    public let client: any ChatService
    /// The workspace the questions' images are read from (for the verifier).
    public let workspaceRoot: URL

    public init(settings: MCQSettings, client: any ChatService, workspaceRoot: URL) {
        self.settings = settings
        self.client = client
        self.workspaceRoot = workspaceRoot
    }

    public func run(with runner: StageRunner) async throws -> Result {
        var result = Result()
        let record = settings.runRecordJSON
        let split = try await runner.run(SplitStage(settings: settings.split, refresh: settings.refresh), settingsJSON: record)
        guard let assignment = split.result else { result.interrupted = true; return result }
        result.assignment = assignment
        if settings.types.contains(1) {
            let type1 = try await runner.run(Type1Stage(settings: settings), settingsJSON: record)
            result.type1 = type1.result
            if type1.result == nil { result.interrupted = true; return result }
        }
        if settings.types.contains(2) {
            let settings = self.settings
            let plan = try await runner.manifest.asyncRead { db in try Type2Plan.make(settings: settings, in: db) }
            result.type2Skipped = plan.skipped
            let summary = try await runner.run(Type2Stage(settings: settings, client: client), concurrency: settings.concurrency,
                                               settingsJSON: record)
            result.type2 = summary
            result.failed = summary.failures > 0
            result.interrupted = summary.interrupted
            // Queued for a batch: the written Type 2 questions stay unplaced and are placed with the rest, as one set,
            // by the finalize of the pass that has every answer.
            if summary.deferred > 0 && !summary.interrupted { result.deferred = true; return result }
            if summary.interrupted {
                // Synchronous: the task is cancelled, and an async write would refuse to start.
                try runner.manifest.write { db in _ = try QuestionStore.deleteUnplaced(type: 2, in: db) }
            }
        }
        let finalized = try await runner.run(FinalizeStage(settings: settings), settingsJSON: record)
        result.finalized = finalized.result
        if result.interrupted || finalized.result == nil || Task.isCancelled {
            result.interrupted = true
            return result
        }
        if settings.verify {
            let summary = try await runner.run(AnswerKeyStage(settings: settings, client: client, workspaceRoot: workspaceRoot),
                                               concurrency: settings.concurrency, settingsJSON: record)
            result.verify = summary
            if summary.failures > 0 { result.failed = true }
            if summary.interrupted { result.interrupted = true }
            if summary.deferred > 0 && !summary.interrupted { result.deferred = true; return result }
        }
        let disputes = try await runner.run(DisputedQuestions(keep: settings.keepDisputed), settingsJSON: record)
        result.disputes = disputes.result
        if result.interrupted || disputes.result == nil || Task.isCancelled {
            result.interrupted = true
            return result
        }
        if settings.blindCheck {
            let summary = try await runner.run(BlindCheck(settings: settings, client: client), concurrency: settings.concurrency,
                                               settingsJSON: record)
            let report = BlindCheck.Report(summary)
            result.blindCheck = report
            if report.failures > 0 { result.failed = true }
            if summary.interrupted { result.interrupted = true }
            if summary.deferred > 0 { result.deferred = true }
        }
        return result
    }
}
