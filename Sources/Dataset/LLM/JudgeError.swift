import Foundation

/// Why a judge — the filter's watermark and relevance judges, the faithfulness and answer-key verifiers — gave no
/// verdict on one item. Never a decision about the item (it is not dropped, rejected or disputed): it stays pending
/// for the judge and is asked again on the next run (from the cache where the request was answered), and the
/// command's exit status says something failed. The one exception is `unreadableImage` (`isAboutItem`): the item's
/// own image cannot be decoded for the judge.
///
/// `stopped` ends the stage (exhausted quota, a rejected key, a wait beyond `llm.max_wait_seconds`), as every
/// model-calling stage stops, with the endpoint's `ChatError` in `cause`.
public struct JudgeError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// The endpoint could not be reached or answered with an error (network, 5xx, 429 after the retries, a
        /// timeout, a refused request such as a wrong model name).
        case unavailable
        /// The model answered, but never with a verdict in the asked shape after the client's re-asks, refused, or
        /// was cut off at max_tokens.
        case noVerdict = "no_verdict"
        /// The image could not be made into the thumbnail the judge is shown.
        case unreadableImage = "unreadable_image"
        /// The endpoint refuses every request: the stage stops.
        case stopped
    }

    public let code: Code
    /// The judge (`Judge.rawValue`, or the filter rule's name).
    public let judge: String
    /// The item, as a person reads it (`question t1-…`, `description of Kimchi (visual, image 3f2a…)`).
    public let item: String
    public let detail: String
    /// The endpoint's error, when the cause was one.
    public let cause: ChatError?

    public init(_ code: Code, judge: String, item: String, detail: String, cause: ChatError? = nil) {
        self.code = code
        self.judge = judge
        self.item = item
        self.detail = SecretRedactor.redact(detail)
        self.cause = cause
    }

    public init(_ code: Code, judge: Judge, item: String, detail: String, cause: ChatError? = nil) {
        self.init(code, judge: judge.rawValue, item: item, detail: detail, cause: cause)
    }

    /// The error for a failed request: the model's non-answers are `noVerdict`, fatal endpoint errors `stopped`,
    /// the rest `unavailable`.
    public init(judge: String, item: String, chat error: ChatError) {
        let code: Code
        switch error.code {
        case .invalidOutput, .refusal, .truncated: code = .noVerdict
        default: code = error.isFatal ? .stopped : .unavailable
        }
        self.init(code, judge: judge, item: item, detail: error.description, cause: error)
    }

    public init(judge: Judge, item: String, chat error: ChatError) {
        self.init(judge: judge.rawValue, item: item, chat: error)
    }

    /// True when the cause lies in the item itself (its image cannot be decoded for the judge): a decision may be
    /// taken on it. Anything else is a failure to retry.
    public var isAboutItem: Bool { code == .unreadableImage }

    /// Whether the item's work must end with this error rather than record a failure: the endpoint refuses every
    /// request, the run was cancelled, or the request was queued for a batch (`ChatError.Code.deferred`).
    public var stopsRun: ChatError? {
        guard let cause, cause.endsItemWork else { return nil }
        return cause
    }

    public var description: String {
        "\(judge) judge gave no verdict on \(item) (\(code.rawValue)): \(detail); it stays pending and is asked again on the next run"
    }
}
