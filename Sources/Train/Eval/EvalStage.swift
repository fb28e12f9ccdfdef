import Dataset
import Foundation

/// One condition of an evaluation as a whole-set step, `eval.<condition>` (`eval.with-image`, `eval.no-image`,
/// `eval.description-only`): it gets the backend's chat for the condition, asks every question through the
/// `Evaluator`, scores the set and stores the report in `eval_results`, linked to its own `runs` row. Its counts
/// are the score's (questions, correct, unparsed, errors, cached); its failures are the questions that got no
/// answer (unaskable, or the endpoint failed), one line each, which make the run `failed`.
///
/// A whole-set step, not a per-item `Stage`: its questions are not a pending query on the manifest (a question
/// file is scored with no workspace at all), nothing is recorded per question, and the result — the score — only
/// exists over the whole set. Bounded concurrency over the questions stays the `Evaluator`'s job.
public struct EvalStage: WholeSetStage {
    /// The condition's score, the answers behind it, and where it was stored.
    public struct Result: Sendable {
        public var report: EvalReport
        public var answers: [EvalAnswer]
        /// The `eval_results` row (nil when not stored: no workspace, the run was cut short, or nothing was answered).
        public var storedID: Int64?
        /// False when the run was cancelled while questions were asked: answers cut short are no score, so such a
        /// result is reported but not stored.
        public var complete: Bool

        /// Every question failed (the endpoint down, the model unknown): no score, so the result is not stored.
        public var answeredNothing: Bool { !answers.isEmpty && report.errors == answers.count }

        /// One line per question that got no answer, naming the question and the cause.
        public var failureLines: [String] {
            answers.compactMap { answer in
                answer.error.map { $0.contains(answer.question.id) ? $0 : "question \(answer.question.id): \($0)" }
            }
        }
    }

    /// How a stored result is labelled and linked (`eval --label`, `eval --checkpoint`).
    public struct Storing: Sendable {
        public var label: String?
        public var trainRunID: Int64?

        public init(label: String? = nil, trainRunID: Int64? = nil) {
            self.label = label
            self.trainRunID = trainRunID
        }
    }

    public let questions: [EvalItem]
    /// Where the questions came from (`workspace:test`, `file.jsonl (k-viscuit)`), as the report names it.
    public let source: String
    /// The settings, `condition` included.
    public let settings: EvalSettings
    public let backend: EvalBackend
    /// The chat for an endpoint backend (Generate's client, handed in by the CLI: Train does not import Generate).
    public let endpointChat: @Sendable (String) throws -> any ChatService
    public let storing: Storing

    public init(questions: [EvalItem], source: String, settings: EvalSettings, backend: EvalBackend,
                endpointChat: @escaping @Sendable (String) throws -> any ChatService, storing: Storing = Storing()) {
        self.questions = questions
        self.source = source
        self.settings = settings
        self.backend = backend
        self.endpointChat = endpointChat
        self.storing = storing
    }

    public var name: String { "eval.\(settings.condition.rawValue)" }

    /// Scores the questions and stores the result in the run's workspace, linked to the run.
    public func run(in context: StageContext) async throws -> Result {
        var result = try await evaluate(progress: context.progress)
        // Cut short, or nothing answered: no score to store (a 0 % would read as a model that answered wrong).
        guard result.complete, !result.answeredNothing else { return result }
        result.storedID = try EvalStore.store(result.report, label: storing.label, trainRunID: storing.trainRunID,
                                              runID: context.run.id, in: context.manifest)
        return result
    }

    /// Scores the questions without storing anything (also how a question file is scored with no workspace).
    public func evaluate(progress: ProgressReporter) async throws -> Result {
        let chat = try backend.chat(for: settings, questions: questions.map(\.question), endpointChat: endpointChat)
        let evaluator = Evaluator(chat: chat, settings: settings, progress: progress)
        let (report, answers) = try await evaluator.run(questions, source: source)
        return Result(report: report, answers: answers, storedID: nil, complete: !Task.isCancelled)
    }

    public func counts(of result: Result) -> [String: Int] {
        let overall = result.report.overall
        return ["questions": overall.n, "correct": overall.correct, "unparsed": overall.unparsed,
                "errors": result.report.errors, "cached": result.report.cached]
    }

    public func failures(in result: Result) -> [String] { result.failureLines }

    public func isComplete(_ result: Result) -> Bool { result.complete }
}
