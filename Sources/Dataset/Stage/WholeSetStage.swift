/// A step that must see the whole set at once to decide anything — near-duplicate grouping, description dedup,
/// Type 1 building, answer balancing, shard writing — in the spirit of Data-Juicer's `Deduplicator` beside its
/// per-sample `Filter`. It is the second shape of stage: the `StageRunner` runs it as it runs a per-item `Stage`,
/// with a row in `runs` (its settings, its counts, `ok`/`failed`/`interrupted`/`error`), one progress display and
/// one way to be interrupted.
///
/// A conformer writes each unit of work (a keyword's group, a shard, the placement of a set of questions) in one
/// transaction, so a run cut short leaves whole units; it checks `Task.isCancelled` between units and returns
/// what it did. Rerun, it recomputes its work from the manifest, like a `Stage`'s pending query.
public protocol WholeSetStage: Sendable {
    associatedtype Result: Sendable

    /// The name of its `runs` rows and progress lines (`duplicates`, `type1`…).
    var name: String { get }

    /// Does the work over the whole set.
    func run(in context: StageContext) async throws -> Result

    /// How the result is counted in the run record (snake_case keys).
    func counts(of result: Result) -> [String: Int]

    /// One line per item the step failed on (names the item and the cause); any makes the run `failed` and the
    /// command's exit status non-zero. Decisions are not failures.
    func failures(in result: Result) -> [String]

    /// Whether the step did all its work; false when it stopped between units because it was cancelled (the
    /// run is then recorded `interrupted`). A step that finishes what it started is complete even in a
    /// cancelled task.
    func isComplete(_ result: Result) -> Bool
}

extension WholeSetStage {
    public func failures(in result: Result) -> [String] { [] }
    public func isComplete(_ result: Result) -> Bool { true }
}

/// A whole-set stage's run: its result (nil when it was interrupted before it could finish) and its summary.
public struct WholeSetOutcome<Result: Sendable>: Sendable {
    public var result: Result?
    public var summary: StageSummary
}
