import Dataset
import Foundation

/// `eval`'s order: each condition in turn (`conditions`, in the order given), one `EvalStage` each. With a runner
/// (a workspace eval), every condition is a step through it — its own `runs` row `eval.<condition>` with the
/// settings applied, the score's counts, `ok`/`failed`/`interrupted`/`error` — and its result is stored linked to
/// that row. With none (a question file and no workspace: no manifest), each condition is scored alone and nothing
/// is stored; failure lines go to the progress display as the runner would show them.
///
/// A run cancelled during a condition stops after it: the conditions after it are not started; so does a condition
/// in which no question got an answer. A fatal model error
/// (`ChatError.isFatal`) is thrown, and the condition's row is closed `error`.
public struct EvalRun: Sendable {
    /// Every condition scored, in order; `interrupted` when a cancellation cut the run short.
    public struct Outcome: Sendable {
        public var results: [EvalStage.Result] = []
        public var interrupted = false
        /// Some question got no answer in some condition: the exit status.
        public var failed: Bool { results.contains { $0.report.errors > 0 } }
    }

    public let questions: EvalQuestionSet
    /// The settings for every condition (`condition` is set per step).
    public let settings: EvalSettings
    public let conditions: [EvalCondition]
    public let backend: EvalBackend
    public let endpointChat: @Sendable (String) throws -> any ChatService
    public let storing: EvalStage.Storing
    /// What each condition's run records as its settings (the `eval:` section applied).
    public let settingsJSON: String

    public init(questions: EvalQuestionSet, settings: EvalSettings, conditions: [EvalCondition], backend: EvalBackend,
                endpointChat: @escaping @Sendable (String) throws -> any ChatService, storing: EvalStage.Storing = .init(),
                settingsJSON: String) {
        self.questions = questions
        self.settings = settings
        self.conditions = conditions
        self.backend = backend
        self.endpointChat = endpointChat
        self.storing = storing
        self.settingsJSON = settingsJSON
    }

    /// The step for one condition.
    public func stage(_ condition: EvalCondition) -> EvalStage {
        var settings = self.settings
        settings.condition = condition
        return EvalStage(questions: questions.items, source: questions.source, settings: settings, backend: backend,
                         endpointChat: endpointChat, storing: storing)
    }

    /// Scores every condition, through `runner` when there is a workspace. `progress` is the display used with no
    /// runner (a runner brings its own). `each` sees each condition's result as soon as it is scored (and stored),
    /// before the next condition starts — an interrupted one's too.
    public func run(with runner: StageRunner?, progress: ProgressReporter,
                    each: @Sendable (EvalStage.Result) throws -> Void = { _ in }) async throws -> Outcome {
        var outcome = Outcome()
        for condition in conditions {
            let step = stage(condition)
            let result: EvalStage.Result?
            if let runner {
                let run = try await runner.run(step, settingsJSON: settingsJSON)
                result = run.result
                if run.summary.interrupted { outcome.interrupted = true }
            } else {
                let scored = try await step.evaluate(progress: progress)
                for line in scored.failureLines { progress.message("error: \(line)") }
                result = scored
                if !scored.complete { outcome.interrupted = true }
            }
            if let result {
                outcome.results.append(result)
                try each(result)
            }
            if outcome.interrupted || Task.isCancelled {
                outcome.interrupted = true
                break
            }
            // Nothing answered (the endpoint is down, the model unknown): the next condition would fare no better.
            if let result, result.answeredNothing { break }
        }
        return outcome
    }
}
