/// A token bucket: `requestsPerMinute` on average, up to `burst` at once. `acquire()` suspends until a
/// token is free. Waiters are served in arrival order: each call reserves its slot before it sleeps.
public actor RateLimiter {
    public nonisolated let requestsPerMinute: Double
    public nonisolated let burst: Int
    private let clock = ContinuousClock()
    /// Tokens at `updated`; negative when slots are reserved by sleeping callers.
    private var tokens: Double
    private var updated: ContinuousClock.Instant

    public init(requestsPerMinute: Double, burst: Int = 1) {
        precondition(requestsPerMinute > 0, "requestsPerMinute must be positive")
        self.requestsPerMinute = requestsPerMinute
        self.burst = max(1, burst)
        tokens = Double(max(1, burst))
        updated = ContinuousClock().now
    }

    private var perSecond: Double { requestsPerMinute / 60 }

    private func refill() {
        let now = clock.now
        let elapsed = (now - updated).seconds
        tokens = min(Double(burst), tokens + elapsed * perSecond)
        updated = now
    }

    /// Waits for a token. Throws `CancellationError` when the task is cancelled while waiting (the reserved
    /// slot is then given back).
    public func acquire() async throws {
        refill()
        tokens -= 1
        guard tokens < 0 else { return }
        let wait = Duration.seconds(-tokens / perSecond)
        do {
            try await Task.sleep(for: wait)
        } catch {
            tokens += 1
            throw error
        }
    }

    /// Takes a token without waiting, if one is free.
    public func tryAcquire() -> Bool {
        refill()
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// Empties the bucket so that no request starts for `duration` (e.g. after a 429 or until
    /// `x-ratelimit-reset-requests`).
    public func pause(for duration: Duration) {
        refill()
        tokens = min(tokens, 1 - duration.seconds * perSecond)
    }
}
