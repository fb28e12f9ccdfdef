import Dataset
import Foundation
import HTTP
import Synchronization
import Testing
import _DSBuildTestSupport

@Suite("HTTP retries")
struct HTTPRetryTests {
    /// Fast backoff so tests that do not exercise Retry-After stay quick.
    static let quick = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .milliseconds(50))

    @Test func retryAfterSecondsIsHonoured() async throws {
        let calls = Counter()
        let router = LoopbackRouter().on("/limited") { _ in
            calls.next() == 1 ? .status(429, headers: [("Retry-After", "1")]) : .text("ok")
        }
        try await withLoopback(router) { server, engine in
            let start = ContinuousClock.now
            let outcome = await engine.perform(HTTPRequest(url: server.url("/limited")), retry: RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10)))
            let elapsed = seconds(since: start)
            #expect(outcome.response?.status == 200)
            #expect(outcome.attempts.count == 2)
            #expect(outcome.attempts[0].status == 429)
            #expect(outcome.attempts[0].wait == .seconds(1))
            #expect(outcome.attempts[0].waitReason == .serverAsked("Retry-After: 1", capped: false))
            #expect(outcome.attempts[1].status == 200)
            #expect(outcome.attempts[1].wait == nil)
            #expect(elapsed >= 0.95, "the client must wait what Retry-After asks")
            #expect(server.requestCount("/limited") == 2)
        }
    }

    @Test func retryAfterHTTPDateIsHonoured() async throws {
        let calls = Counter()
        let router = LoopbackRouter().on("/limited") { _ in
            guard calls.next() == 1 else { return .text("ok") }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            return .status(429, headers: [("Retry-After", formatter.string(from: Date().addingTimeInterval(3)))])
        }
        try await withLoopback(router) { server, engine in
            let start = ContinuousClock.now
            let policy = RetryPolicy(maxAttempts: 3, baseDelay: .milliseconds(10), maxDelay: .seconds(5))
            let outcome = await engine.perform(HTTPRequest(url: server.url("/limited")), retry: policy)
            #expect(outcome.response?.status == 200)
            #expect(outcome.attempts.count == 2)
            let wait = try #require(outcome.attempts[0].wait)
            // The date has one-second resolution: now + 3 s truncated lies 2–3 s ahead when sent; allow for a loaded machine.
            #expect(wait > .milliseconds(500) && wait <= .seconds(3))
            guard case .serverAsked(let source, capped: false)? = outcome.attempts[0].waitReason else {
                Issue.record("expected a Retry-After wait, got \(String(describing: outcome.attempts[0].waitReason))")
                return
            }
            #expect(source.hasPrefix("Retry-After: ") && source.hasSuffix("GMT"))
            #expect(seconds(since: start) >= wait.components.seconds.doubleValue * 0.95)
        }
    }

    @Test func retryAfterIsCappedByMaxDelay() async throws {
        let calls = Counter()
        let router = LoopbackRouter().on("/limited") { _ in
            calls.next() == 1 ? .status(503, headers: [("Retry-After", "3600")]) : .text("ok")
        }
        try await withLoopback(router) { server, engine in
            let outcome = await engine.perform(HTTPRequest(url: server.url("/limited")), retry: Self.quick)
            #expect(outcome.response?.status == 200)
            #expect(outcome.attempts[0].wait == .milliseconds(50))
            #expect(outcome.attempts[0].waitReason == .serverAsked("Retry-After: 3600", capped: true))
        }
    }

    @Test func retryAfterMillisecondsWinsOverRetryAfter() async throws {
        let calls = Counter()
        let router = LoopbackRouter().on("/limited") { _ in
            calls.next() == 1 ? .status(429, headers: [("Retry-After", "30"), ("retry-after-ms", "20")]) : .text("ok")
        }
        try await withLoopback(router) { server, engine in
            let outcome = await engine.perform(HTTPRequest(url: server.url("/limited")), retry: Self.quick)
            #expect(outcome.response?.status == 200)
            #expect(outcome.attempts[0].wait == .milliseconds(20))
        }
    }

    @Test func serviceUnavailableThenOKRecordsTwoAttempts() async throws {
        let calls = Counter()
        let router = LoopbackRouter().on("/flaky") { _ in calls.next() == 1 ? .status(503) : .text("ok") }
        try await withLoopback(router) { server, engine in
            let outcome = await engine.perform(HTTPRequest(url: server.url("/flaky")), retry: Self.quick)
            #expect(outcome.response?.body == Data("ok".utf8))
            #expect(outcome.attempts.map(\.status) == [503, 200])
            #expect(outcome.attempts[0].waitReason == .backoff(cap: .milliseconds(10)))
            let wait = try #require(outcome.attempts[0].wait)
            #expect(wait >= .zero && wait <= .milliseconds(10))
            #expect(server.requestCount("/flaky") == 2)
        }
    }

    @Test func serverErrorForeverIsBounded() async throws {
        let router = LoopbackRouter().on("/down") { _ in .status(500) }
        try await withLoopback(router) { server, engine in
            let outcome = await engine.perform(HTTPRequest(url: server.url("/down")), retry: Self.quick)
            #expect(outcome.response?.status == 500, "the last response is returned when attempts run out")
            #expect(outcome.attempts.count == 3)
            #expect(outcome.attempts.last?.wait == nil)
            #expect(server.requestCount("/down") == 3)
        }
    }

    @Test func nonRetryableStatusIsNotRetried() async throws {
        let router = LoopbackRouter().on("/gone") { _ in .status(404) }
        try await withLoopback(router) { server, engine in
            let outcome = await engine.perform(HTTPRequest(url: server.url("/gone")), retry: Self.quick)
            #expect(outcome.response?.status == 404)
            #expect(outcome.attempts.count == 1)
            #expect(server.requestCount("/gone") == 1)
        }
    }

    @Test func connectionResetIsRetriedThenATypedError() async throws {
        let router = LoopbackRouter().on("/reset") { _ in .fault(.resetBeforeResponse) }
        try await withLoopback(router) { server, engine in
            let outcome = await engine.perform(HTTPRequest(url: server.url("/reset")), retry: Self.quick)
            guard case .failure(let error) = outcome.result else {
                Issue.record("expected an error")
                return
            }
            #expect(error.code == .connectionLost)
            #expect(outcome.attempts.count == 3)
            #expect(outcome.attempts.allSatisfy { $0.error?.code == .connectionLost })
            #expect(server.requestCount("/reset") == 3, "no duplicate requests beyond the attempts")
        }
    }

    @Test func nonTransientErrorIsNotRetried() async throws {
        let router = LoopbackRouter().on("/evil") { _ in .redirect(to: "file:///etc/passwd") }
        try await withLoopback(router) { server, engine in
            let outcome = await engine.perform(HTTPRequest(url: server.url("/evil")), retry: Self.quick)
            #expect(outcome.attempts.count == 1)
            #expect(outcome.attempts[0].error?.code == .disallowedScheme("file"))
        }
    }

    @Test func everyAttemptGetsAFreshSink() async throws {
        let calls = Counter()
        let router = LoopbackRouter().on("/flaky") { _ in
            calls.next() == 1 ? .fault(.resetMidBody(afterBytes: 2000)) : .ok(mebibytePattern)
        }
        try await withLoopback(router) { server, engine in
            let sinks = SinkLog()
            let outcome = await engine.perform(HTTPRequest(url: server.url("/flaky")), retry: Self.quick) {
                sinks.make()
            }
            #expect(outcome.response?.status == 200)
            #expect(outcome.attempts.count == 2)
            let last = try #require(sinks.last)
            #expect(try last.finish().sha256 == mebibytePatternSHA256)
        }
    }

    @Test func downloaderShapeStreamsToFileAndRefusesNoAI() async throws {
        let calls = Counter()
        let router = LoopbackRouter()
            .on("/img") { _ in calls.next() == 1 ? .status(503, headers: [("retry-after-ms", "10")]) : .ok(mebibytePattern, contentType: "image/jpeg") }
            .on("/noai") { _ in LoopbackResponse(headers: [("X-Robots-Tag", "otherbot: noindex"), ("X-Robots-Tag", "noimageai")], body: mebibytePattern) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("dsbuild-http-\(UUID().uuidString).jpg")
        defer { try? FileManager.default.removeItem(at: file) }
        let refuseNoAI: @Sendable (HTTPResponseHead) -> HTTPSinkDecision = { head in
            head.headers.values("X-Robots-Tag").contains { $0.contains("noai") || $0.contains("noimageai") }
                ? .abort("X-Robots-Tag: noai") : .proceed
        }
        try await withLoopback(router) { server, engine in
            let sinks = Mutex<[HashingBodySink]>([])
            let outcome = await engine.perform(HTTPRequest(url: server.url("/img"), maxBodyBytes: 50 << 20), retry: Self.quick) {
                let sink = try? HashingBodySink(writingTo: file, onHead: refuseNoAI)
                if let sink { sinks.withLock { $0.append(sink) } }
                return sink
            }
            #expect(outcome.attempts.map(\.status) == [503, 200])
            let (sha, bytes) = try #require(sinks.withLock { $0.last }).finish()
            #expect(sha == mebibytePatternSHA256 && bytes == mebibytePattern.count)
            #expect(try Data(contentsOf: file) == mebibytePattern, "the retry rewrote the file from the start")

            let refused = await engine.perform(HTTPRequest(url: server.url("/noai")), retry: Self.quick) {
                try? HashingBodySink(onHead: refuseNoAI)
            }
            #expect(refused.attempts.count == 1, "an abort is not retried")
            #expect(refused.error?.code == .aborted(reason: "X-Robots-Tag: noai"))
        }
    }

    @Test func backoffDoublesUpToTheCap() {
        let policy = RetryPolicy(baseDelay: .milliseconds(100), maxDelay: .seconds(1), jitter: .none)
        #expect((1...6).map { policy.backoff(beforeRetry: $0) } == [
            .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1),
        ])
        for retry in 1...8 {
            let (wait, reason) = RetryPolicy(baseDelay: .milliseconds(100), maxDelay: .seconds(1)).delay(beforeRetry: retry, hint: nil)
            #expect(wait >= .zero && wait <= policy.backoff(beforeRetry: retry))
            #expect(reason == .backoff(cap: policy.backoff(beforeRetry: retry)))
        }
    }
}

/// Keeps the sinks a retrying perform created.
private final class SinkLog: Sendable {
    private let sinks = Mutex<[HashingBodySink]>([])
    func make() -> HashingBodySink {
        let sink = try! HashingBodySink()
        sinks.withLock { $0.append(sink) }
        return sink
    }
    var last: HashingBodySink? { sinks.withLock { $0.last } }
}

extension Int64 {
    fileprivate var doubleValue: Double { Double(self) }
}
