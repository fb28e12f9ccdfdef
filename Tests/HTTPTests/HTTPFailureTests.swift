import Dataset
import Foundation
import HTTP
import Testing
import _DSBuildTestSupport

@Suite("HTTP engine: failures are typed errors")
struct HTTPFailureTests {
    @Test func truncatedBodyIsAnErrorNeverASuccess() async throws {
        let router = LoopbackRouter().on("/short") { _ in
            LoopbackResponse(body: Data(repeating: 0x41, count: 10), framing: .declaredLength(1000))
        }
        try await withLoopback(router) { server, engine in
            let error = await performExpectingError(engine, HTTPRequest(url: server.url("/short")))
            #expect(error?.code == .truncatedBody)
            #expect(error?.isTransient == true)
        }
    }

    @Test func connectionResetBeforeResponseIsConnectionLost() async throws {
        let router = LoopbackRouter().on("/reset") { _ in .fault(.resetBeforeResponse) }
        try await withLoopback(router) { server, engine in
            let error = await performExpectingError(engine, HTTPRequest(url: server.url("/reset")))
            #expect(error?.code == .connectionLost)
        }
    }

    @Test func connectionResetMidBodyIsAnError() async throws {
        let router = LoopbackRouter().on("/reset") { _ in .fault(.resetMidBody(afterBytes: 1000)) }
        try await withLoopback(router) { server, engine in
            let sink = RecordingSink()
            let error = await performExpectingError(engine, HTTPRequest(url: server.url("/reset")), sink: sink)
            let code = try #require(error?.code)
            #expect(code == .connectionLost || code == .truncatedBody)
            #expect(sink.bytes <= 1000)
        }
    }

    @Test func closeWithoutAnswerIsEmptyReply() async throws {
        let router = LoopbackRouter().on("/silent") { _ in .fault(.closeWithoutResponse) }
        try await withLoopback(router) { server, engine in
            let error = await performExpectingError(engine, HTTPRequest(url: server.url("/silent")))
            #expect(error?.code == .emptyReply)
        }
    }

    @Test func refusedConnectionIsConnectFailed() async throws {
        let server = try LoopbackHTTPServer(router: LoopbackRouter())
        let url = server.url("/x")
        server.stop()
        try await Task.sleep(for: .milliseconds(50))  // the accept thread closes the socket
        let engine = HTTPEngine(configuration: .loopback())
        defer { engine.shutdown() }
        let error = await performExpectingError(engine, HTTPRequest(url: url))
        #expect(error?.code == .connectFailed)
        #expect(error?.description.contains(url.absoluteString) == true)
    }

    @Test func slowBodyTripsTheLowSpeedLimit() async throws {
        let router = LoopbackRouter().on("/trickle") { _ in
            LoopbackResponse(body: Data(count: 200), pacing: (1, .milliseconds(200)))
        }
        try await withLoopback(router) { server, engine in
            let start = ContinuousClock.now
            let request = HTTPRequest(url: server.url("/trickle"), lowSpeedLimit: 100, lowSpeedTime: .seconds(1))
            let error = await performExpectingError(engine, request)
            #expect(error?.code == .lowSpeed(limit: 100, seconds: 1))
            #expect(seconds(since: start) < 5)
        }
    }

    @Test func totalTimeoutStopsAStalledServer() async throws {
        let router = LoopbackRouter().on("/stall") { _ in
            LoopbackResponse(body: Data("late".utf8), delayBeforeHeaders: .seconds(5))
        }
        try await withLoopback(router) { server, engine in
            let start = ContinuousClock.now
            let error = await performExpectingError(engine, HTTPRequest(url: server.url("/stall"), totalTimeout: .milliseconds(300)))
            #expect(error?.code == .timedOut(.total))
            let elapsed = seconds(since: start)
            #expect(elapsed >= 0.25 && elapsed < 2)
        }
    }

    @Test func oversizeByContentLengthIsRefusedBeforeTheBody() async throws {
        // 2 MiB at 1 KiB per 50 ms would take ~100 s: only an abort at the headers finishes quickly.
        let size = 2 << 20
        let router = LoopbackRouter().on("/huge") { _ in
            LoopbackResponse(body: Data(count: size), pacing: (1024, .milliseconds(50)))
        }
        try await withLoopback(router) { server, engine in
            let sink = RecordingSink()
            let start = ContinuousClock.now
            let error = await performExpectingError(engine, HTTPRequest(url: server.url("/huge"), maxBodyBytes: 1000), sink: sink)
            #expect(error?.code == .bodyTooLarge(limit: 1000, seen: size))
            #expect(sink.bytes == 0)
            #expect(sink.heads == 0, "the sink is not consulted for a response already refused")
            #expect(server.bodyBytesSent("/huge") < size)
            #expect(seconds(since: start) < 3)
        }
    }

    @Test func oversizeWhileStreamingChunkedIsAborted() async throws {
        let router = LoopbackRouter().on("/stream") { _ in
            LoopbackResponse(body: Data(count: 1 << 20), framing: .chunked(chunkSize: 4096))
        }
        try await withLoopback(router) { server, engine in
            let sink = RecordingSink()
            let limit = 64 * 1024
            let error = await performExpectingError(engine, HTTPRequest(url: server.url("/stream"), maxBodyBytes: limit), sink: sink)
            guard case .bodyTooLarge(let reportedLimit, let seen)? = error?.code else {
                Issue.record("expected bodyTooLarge, got \(String(describing: error))")
                return
            }
            #expect(reportedLimit == limit)
            #expect(seen > limit && seen < 1 << 20)
            #expect(sink.bytes <= limit)
        }
    }

    @Test func oversizeWithoutSinkIsAbortedToo() async throws {
        let router = LoopbackRouter().on("/stream") { _ in
            LoopbackResponse(body: Data(count: 1 << 20), framing: .untilClose)
        }
        try await withLoopback(router) { server, engine in
            let error = await performExpectingError(engine, HTTPRequest(url: server.url("/stream"), maxBodyBytes: 10_000))
            guard case .bodyTooLarge(10_000, _)? = error?.code else {
                Issue.record("expected bodyTooLarge, got \(String(describing: error))")
                return
            }
        }
    }

    @Test func redirectLoopIsTooManyRedirects() async throws {
        let router = LoopbackRouter().on("/loop") { _ in .redirect(to: "/loop") }
        try await withLoopback(router) { server, engine in
            let error = await performExpectingError(engine, HTTPRequest(url: server.url("/loop"), maxRedirects: 5))
            #expect(error?.code == .tooManyRedirects(limit: 5))
            #expect(server.requestCount("/loop") == 6)
        }
    }

    @Test(arguments: ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/x"])
    func redirectToAnotherSchemeIsDisallowed(target: String) async throws {
        let router = LoopbackRouter().on("/evil") { _ in .redirect(to: target) }
        try await withLoopback(router) { server, engine in
            let error = await performExpectingError(engine, HTTPRequest(url: server.url("/evil")))
            let scheme = String(target.prefix { $0 != ":" })
            #expect(error?.code == .disallowedScheme(scheme))
            #expect(error?.description.contains("only http and https") == true)
            #expect(error?.detail?.contains("redirected to \(target)") == true)
        }
    }

    @Test func nonHTTPRequestURLIsRefusedWithoutATransfer() async throws {
        let engine = HTTPEngine(configuration: .loopback())
        defer { engine.shutdown() }
        let error = await performExpectingError(engine, HTTPRequest(url: URL(fileURLWithPath: "/etc/passwd")))
        #expect(error?.code == .disallowedScheme("file"))
    }

    @Test func shutdownFailsQueuedAndRunningTransfers() async throws {
        let router = LoopbackRouter().on("/slow") { _ in
            LoopbackResponse(body: Data(count: 100), pacing: (1, .milliseconds(100)))
        }
        let server = try LoopbackHTTPServer(router: router)
        defer { server.stop() }
        let engine = HTTPEngine(configuration: .loopback())
        let task = Task { await performExpectingError(engine, HTTPRequest(url: server.url("/slow"))) }
        try await Task.sleep(for: .milliseconds(200))
        engine.shutdown()
        #expect(await task.value?.code == .cancelled)
        #expect(await performExpectingError(engine, HTTPRequest(url: server.url("/slow")))?.code == .cancelled)
    }
}
