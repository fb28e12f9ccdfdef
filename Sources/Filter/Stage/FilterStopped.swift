import Dataset

/// A filter run stopped because a rule's judge refuses every request (a rejected key, an exhausted quota, a wait
/// beyond the limit): the images not decided yet stay pending, and `dsbuild filter` exits 2 with the reason.
public struct FilterStopped: Error, Sendable, CustomStringConvertible, RunStopping {
    public let rule: String
    public let reason: String
    /// `budget_exhausted` when the judge's request would have passed `llm.budget`, else `error`.
    public var runStatus: String = "error"

    public var description: String { "the \(rule) rule cannot decide any image: \(reason)" }
}
