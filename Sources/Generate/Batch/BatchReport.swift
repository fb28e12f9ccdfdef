import Foundation

/// What the Batch API path did in one command: the figures a command prints and `--json` shows.
public struct BatchReport: Sendable, Equatable {
    /// Stage passes run (the first included).
    public var passes = 0
    /// Requests written to input files and batches created by this command.
    public var submitted = 0
    public var batches = 0
    /// Batches an earlier process left in flight that this one resumed.
    public var resumed = 0
    public var polls = 0
    /// Requests answered (merged into `llm_cache`), and those a batch failed, expired or cancelled.
    public var succeeded = 0
    public var failed = 0
    public var expired = 0
    public var cancelled = 0
    public var promptTokens = 0
    public var completionTokens = 0
    /// Requests still queued when the rounds ran out (their items stay pending).
    public var left = 0
    /// What went wrong with single batches and was dealt with (a refused create, a lost batch, a result file that
    /// could not be downloaded), one line each: the command prints them.
    public var problems: [String] = []

    public init() {}

    public var json: [String: Any] {
        ["passes": passes, "submitted": submitted, "batches": batches, "resumed": resumed, "polls": polls,
         "succeeded": succeeded, "failed": failed, "expired": expired, "cancelled": cancelled,
         "prompt_tokens": promptTokens, "completion_tokens": completionTokens, "left": left, "problems": problems]
    }

    public var line: String {
        var text = "batch: \(submitted) requests in \(batches) batches (\(resumed) resumed), \(polls) polls, \(succeeded) answered"
        for (count, what) in [(failed, "failed"), (expired, "expired"), (cancelled, "cancelled")] where count > 0 { text += ", \(count) \(what)" }
        text += ", \(promptTokens)+\(completionTokens) tokens"
        if left > 0 { text += "; \(left) requests still pending after the last round (run again)" }
        return text
    }
}
