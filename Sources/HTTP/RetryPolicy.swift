/// When and how long to retry: exponential backoff with full jitter (AWS's "full jitter": a uniform wait in
/// `0...min(maxDelay, baseDelay * 2^(retry-1))`), a server's `Retry-After` honoured when it gives one.
public struct RetryPolicy: Sendable {
    public enum Jitter: Sendable {
        /// Uniform in `0...backoff`: spreads retries of many clients best.
        case full
        /// Exactly the backoff (deterministic; for tests and single clients).
        case none
    }

    /// Attempts in all, the first included (1 = no retries).
    public var maxAttempts: Int
    public var baseDelay: Duration
    /// Upper bound for every wait, a server's `Retry-After` included.
    public var maxDelay: Duration
    public var jitter: Jitter
    /// Statuses worth another attempt.
    public var retryableStatuses: Set<Int>
    /// Transfer errors worth another attempt (default: `HTTPError.isTransient`).
    public var retryableError: @Sendable (HTTPError) -> Bool
    /// Wait what `Retry-After` / `retry-after-ms` asks (capped by `maxDelay`) instead of the backoff.
    public var honourRetryAfter: Bool
    /// The longest server-asked wait honoured (in full, beyond `maxDelay`); a longer one ends the retries with
    /// `HTTPRetryResult.waitRefused` set, so the caller can stop instead of stalling. Nil: every hint is capped
    /// by `maxDelay`.
    public var maxWait: Duration?

    /// 408, 429 and every 5xx.
    public static let defaultRetryableStatuses: Set<Int> = Set([408, 429]).union(500...599)

    public init(
        maxAttempts: Int = 5,
        baseDelay: Duration = .milliseconds(500),
        maxDelay: Duration = .seconds(60),
        jitter: Jitter = .full,
        retryableStatuses: Set<Int> = RetryPolicy.defaultRetryableStatuses,
        retryableError: @escaping @Sendable (HTTPError) -> Bool = { $0.isTransient },
        honourRetryAfter: Bool = true,
        maxWait: Duration? = nil
    ) {
        self.maxWait = maxWait
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.jitter = jitter
        self.retryableStatuses = retryableStatuses
        self.retryableError = retryableError
        self.honourRetryAfter = honourRetryAfter
    }

    /// No retries.
    public static let none = RetryPolicy(maxAttempts: 1)

    /// The backoff before retry number `retry` (1 for the wait after the first attempt), before jitter.
    public func backoff(beforeRetry retry: Int) -> Duration {
        let exponent = min(max(retry - 1, 0), 40)
        let seconds = baseDelay.seconds * Double(1 << UInt64(exponent))
        return seconds >= maxDelay.seconds ? maxDelay : Duration.seconds(seconds)
    }

    /// The wait before retry number `retry`, and why.
    public func delay<G: RandomNumberGenerator>(
        beforeRetry retry: Int, hint: RetryAfter.Hint?, using generator: inout G
    ) -> (Duration, HTTPAttempt.WaitReason) {
        if honourRetryAfter, let hint {
            if let maxWait, hint.delay <= maxWait { return (hint.delay, .serverAsked(hint.source, capped: false)) }
            let capped = hint.delay > maxDelay
            return (capped ? maxDelay : hint.delay, .serverAsked(hint.source, capped: capped))
        }
        let cap = backoff(beforeRetry: retry)
        switch jitter {
        case .none:
            return (cap, .backoff(cap: cap))
        case .full:
            let micros = Int64(cap.seconds * 1_000_000)
            let chosen = micros > 0 ? Int64.random(in: 0...micros, using: &generator) : 0
            return (.microseconds(chosen), .backoff(cap: cap))
        }
    }

    public func delay(beforeRetry retry: Int, hint: RetryAfter.Hint?) -> (Duration, HTTPAttempt.WaitReason) {
        var generator = SystemRandomNumberGenerator()
        return delay(beforeRetry: retry, hint: hint, using: &generator)
    }
}
