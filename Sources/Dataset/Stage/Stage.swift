import GRDB

/// One stage of the pipeline in the shape DESIGN.md gives every stage: pending work is a query on the
/// manifest, the work runs with bounded concurrency, and each result is recorded in its own transaction.
///
/// A new stage or variant (a source, a rule, an aspect, an export) conforms to this; the `StageRunner` owns
/// the loop, concurrency, progress, cancellation and the run record. A step that must see the whole set at
/// once is a `WholeSetStage` instead.
public protocol Stage: Sendable {
    associatedtype Item: Sendable
    associatedtype Outcome: Sendable

    /// A short name for progress lines and the run record (`collect`, `filter`…).
    var name: String { get }

    /// What is left to do, recomputed from the manifest each run.
    func pending(in manifest: Manifest) async throws -> [Item]

    /// Does the work for one item. Failures are outcomes, not thrown errors, so one bad item never stops the rest;
    /// throw only for conditions that must stop the whole run (e.g. an exhausted API quota).
    func work(on item: Item) async throws -> Outcome

    /// Records one outcome inside the transaction the runner opened for it, as part of `run`.
    func record(_ outcome: Outcome, for item: Item, in db: Database, run: StageRun) throws

    /// How the outcome is counted in the run summary: a short snake_case key (`ok`, `http_429`…) and whether it
    /// is a failure that makes the exit status non-zero.
    func classify(_ outcome: Outcome) -> StageOutcomeClass
}

/// How an outcome counts: `key` names it in the summary; `failed` makes the command's exit status non-zero.
public struct StageOutcomeClass: Sendable, Hashable {
    public let key: String
    public let failed: Bool
    /// A one-line message for the user when the item failed (names the item and the cause).
    public let message: String?

    public init(key: String, failed: Bool = false, message: String? = nil) {
        self.key = key
        self.failed = failed
        self.message = message
    }

    public static let ok = StageOutcomeClass(key: "ok")
}
