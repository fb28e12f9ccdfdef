import Dataset
import Foundation
import HTTP
import Testing

@Suite("Retry-After, rate-limit durations, rate limiter")
struct HTTPParsingTests {
    /// 1994-11-06 08:49:37 GMT, the RFC's example date.
    static let rfcExample = Date(timeIntervalSince1970: 784_111_777)

    @Test(arguments: [
        ("Sun, 06 Nov 1994 08:49:37 GMT", true),
        ("Sunday, 06-Nov-94 08:49:37 GMT", true),
        ("Sun Nov  6 08:49:37 1994", true),
        ("Sun, 06 Nov 1994 08:49:37 PST", false),
        ("Sun, 06 Foo 1994 08:49:37 GMT", false),
        ("yesterday", false),
    ])
    func httpDateFormats(text: String, valid: Bool) {
        let date = RetryAfter.parseHTTPDate(text)
        #expect(valid ? date == Self.rfcExample : date == nil)
    }

    @Test func retryAfterDeltaSeconds() {
        #expect(RetryAfter.parse("120") == .seconds(120))
        #expect(RetryAfter.parse(" 0 ") == .zero)
        #expect(RetryAfter.parse("-5") == nil)
        #expect(RetryAfter.parse("1.5") == nil)
        #expect(RetryAfter.parse("") == nil)
    }

    @Test func retryAfterDateIsRelativeToNow() {
        let now = Self.rfcExample.addingTimeInterval(-30)
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: now) == .seconds(30))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:37 GMT", now: Self.rfcExample.addingTimeInterval(60)) == .zero)
    }

    @Test func hintPrefersMillisecondsAndNamesItsSource() {
        var headers = HTTPHeaders([("Retry-After", "7")])
        #expect(RetryAfter.hint(in: headers) == RetryAfter.Hint(delay: .seconds(7), source: "Retry-After: 7"))
        headers.add("Retry-After-Ms", "1500")
        #expect(RetryAfter.hint(in: headers) == RetryAfter.Hint(delay: .milliseconds(1500), source: "retry-after-ms: 1500"))
        #expect(RetryAfter.hint(in: HTTPHeaders([("Retry-After", "soon")])) == nil)
        #expect(RetryAfter.hint(in: HTTPHeaders()) == nil)
    }

    @Test(arguments: [
        ("6m0s", Duration.seconds(360)),
        ("12ms", .milliseconds(12)),
        ("1.5s", .milliseconds(1500)),
        ("1h2m3.5s", .milliseconds(3_723_500)),
        ("250us", .microseconds(250)),
        ("0s", .zero),
        ("2", .seconds(2)),
        ("0.25", .milliseconds(250)),
    ])
    func rateLimitDurations(text: String, expected: Duration) {
        #expect(parseRateLimitDuration(text) == expected)
    }

    @Test(arguments: ["", "abc", "5x", "m", "1.2.3s", "-1s", "6m0"])
    func malformedRateLimitDurations(text: String) {
        #expect(parseRateLimitDuration(text) == nil)
    }

    @Test func rateLimiterSpacesRequests() async throws {
        let limiter = RateLimiter(requestsPerMinute: 600)  // one per 100 ms, burst 1
        let start = ContinuousClock.now
        for _ in 0..<5 { try await limiter.acquire() }
        let elapsed = seconds(since: start)
        #expect(elapsed >= 0.38, "5 acquires at 10/s need ~0.4 s")
        #expect(elapsed < 2)
    }

    @Test func rateLimiterAllowsItsBurstAtOnce() async throws {
        let limiter = RateLimiter(requestsPerMinute: 60, burst: 3)
        let start = ContinuousClock.now
        for _ in 0..<3 { try await limiter.acquire() }
        #expect(seconds(since: start) < 0.3)
        #expect(await limiter.tryAcquire() == false)
    }

    @Test func rateLimiterServesConcurrentWaitersOnePerInterval() async throws {
        let limiter = RateLimiter(requestsPerMinute: 1200)  // 50 ms
        let start = ContinuousClock.now
        let times = try await withThrowingTaskGroup(of: Double.self) { group in
            for _ in 0..<6 { group.addTask { try await limiter.acquire(); return seconds(since: start) } }
            return try await group.reduce(into: []) { $0.append($1) }.sorted()
        }
        #expect(times.count == 6)
        #expect(times.last! >= 0.24)
    }

    @Test func rateLimiterPauseDelaysTheNextRequest() async throws {
        let limiter = RateLimiter(requestsPerMinute: 6000, burst: 5)
        await limiter.pause(for: .milliseconds(300))
        let start = ContinuousClock.now
        try await limiter.acquire()
        #expect(seconds(since: start) >= 0.28)
    }

    @Test func cancellingAWaiterThrows() async throws {
        let limiter = RateLimiter(requestsPerMinute: 1)
        try await limiter.acquire()
        let waiter = Task { try await limiter.acquire() }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
    }
}
