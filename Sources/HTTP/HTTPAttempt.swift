import Foundation

/// One try of a request under a `RetryPolicy`, as a caller stores it ("http 429 after 5 tries").
public struct HTTPAttempt: Sendable, CustomStringConvertible {
    public enum Outcome: Sendable {
        case response(status: Int)
        case failure(HTTPError)
    }

    public enum WaitReason: Sendable, Equatable, CustomStringConvertible {
        /// Exponential backoff; the wait was drawn in `0...cap` (or is `cap` without jitter).
        case backoff(cap: Duration)
        /// The server's `Retry-After` / `retry-after-ms` (raw header), possibly capped by the policy's max delay.
        case serverAsked(String, capped: Bool)

        public var description: String {
            switch self {
            case .backoff(let cap): return "backoff (cap \(cap))"
            case .serverAsked(let source, let capped): return capped ? "\(source), capped to max delay" : source
            }
        }
    }

    /// 1-based.
    public var number: Int
    public var outcome: Outcome
    public var started: Date
    public var duration: Duration
    /// The wait chosen before the next attempt; nil when this attempt was the last.
    public var wait: Duration?
    public var waitReason: WaitReason?

    public var status: Int? {
        if case .response(let status) = outcome { return status }
        return nil
    }

    public var error: HTTPError? {
        if case .failure(let error) = outcome { return error }
        return nil
    }

    public var description: String {
        var text = "attempt \(number): "
        switch outcome {
        case .response(let status): text += "http \(status)"
        case .failure(let error): text += error.description
        }
        if let wait, let waitReason { text += "; waited \(wait) (\(waitReason))" }
        return text
    }
}

/// The outcome of a request run under a `RetryPolicy`: the last response (which may still be a retryable
/// status when attempts ran out) or the last error, and every attempt made.
public struct HTTPRetryResult: Sendable {
    public var result: Result<HTTPResponse, HTTPError>
    public var attempts: [HTTPAttempt]
    /// Set when the server asked for a wait beyond `RetryPolicy.maxWait`: the retries stopped there.
    public var waitRefused: HTTPWaitTooLong?

    public init(result: Result<HTTPResponse, HTTPError>, attempts: [HTTPAttempt]) {
        self.result = result
        self.attempts = attempts
    }

    public func get() throws(HTTPError) -> HTTPResponse { try result.get() }

    /// The final response, or nil when the last attempt failed.
    public var response: HTTPResponse? { try? result.get() }

    /// The final error, or nil when there was a response.
    public var error: HTTPError? {
        if case .failure(let error) = result { return error }
        return nil
    }
}
