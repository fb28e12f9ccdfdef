import Dataset
import Foundation
import HTTP
import Synchronization
import Testing
import _DSBuildTestSupport

@Suite("HTTP engine: responses")
struct HTTPEngineResponseTests {
    @Test func okReturnsBodyFinalHeadersAndTransferInfo() async throws {
        let router = LoopbackRouter().on("/hello") { request in
            LoopbackResponse(
                status: 200,
                headers: [("Content-Type", "text/plain"), ("X-Robots-Tag", "noindex"), ("x-robots-tag", "noai")],
                body: Data("agent=\(request.header("User-Agent") ?? "-")".utf8))
        }
        try await withLoopback(router) { server, engine in
            let response = try await engine.perform(HTTPRequest(url: server.url("/hello")))
            #expect(response.status == 200)
            #expect(String(decoding: response.body ?? Data(), as: UTF8.self) == "agent=dsbuild/\(DSBuildVersion.string) (+tests@example.org)")
            #expect(response.headers["content-type"] == "text/plain")
            #expect(response.headers.values("X-ROBOTS-TAG") == ["noindex", "noai"])
            #expect(response.httpVersion == "1.1")
            #expect(response.effectiveURL == server.url("/hello"))
            #expect(response.redirectCount == 0)
            #expect(response.bytesDownloaded == response.body?.count)
            #expect(response.totalTime > .zero)
        }
    }

    @Test func notFoundIsAResponseNotAnError() async throws {
        try await withLoopback(LoopbackRouter()) { server, engine in
            let response = try await engine.perform(HTTPRequest(url: server.url("/missing")))
            #expect(response.status == 404)
            #expect(!response.isSuccess)
            #expect(String(decoding: response.body ?? Data(), as: UTF8.self).contains("/missing"))
        }
    }

    @Test func postSendsMethodHeadersAndBody() async throws {
        let router = LoopbackRouter().on("/echo") { request in
            .text("\(request.method) \(request.header("Content-Type") ?? "-") \(String(decoding: request.body, as: UTF8.self))")
        }
        try await withLoopback(router) { server, engine in
            let request = HTTPRequest(
                url: server.url("/echo"), method: "POST", headers: [("Content-Type", "application/json")],
                body: Data(#"{"a":1}"#.utf8))
            let response = try await engine.perform(request)
            #expect(String(decoding: response.body ?? Data(), as: UTF8.self) == #"POST application/json {"a":1}"#)
        }
    }

    @Test func streamingSinkSeesEveryByteAndItsHashMatches() async throws {
        let router = LoopbackRouter().on("/blob") { _ in
            LoopbackResponse(body: mebibytePattern, framing: .chunked(chunkSize: 10_000))
        }
        try await withLoopback(router) { server, engine in
            let sink = try HashingBodySink()
            let response = try await engine.perform(HTTPRequest(url: server.url("/blob")), sink: sink)
            let (sha, bytes) = try sink.finish()
            #expect(response.status == 200)
            #expect(response.body == nil)
            #expect(bytes == mebibytePattern.count)
            #expect(response.bytesDownloaded == mebibytePattern.count)
            #expect(sha == mebibytePatternSHA256)
        }
    }

    @Test func streamingSinkWritesTheFile() async throws {
        let router = LoopbackRouter().on("/blob") { _ in .ok(mebibytePattern) }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("dsbuild-http-\(UUID().uuidString).bin")
        defer { try? FileManager.default.removeItem(at: file) }
        try await withLoopback(router) { server, engine in
            let sink = try HashingBodySink(writingTo: file)
            _ = try await engine.perform(HTTPRequest(url: server.url("/blob")), sink: sink)
            _ = try sink.finish()
            #expect(try Data(contentsOf: file) == mebibytePattern)
        }
    }

    @Test func gzipResponseIsDecoded() async throws {
        // gzip of 200 × "dsbuild gzip test line\n" (Python gzip, mtime 0).
        let gzipped = Data(base64Encoded: "H4sIAAAAAAAC/+3IwQnAIBAAsH+nuNnKiRxIKaifTt85hOSZnPeukdG/emO1uWLU067UWmuttdZaa6211mf3Dz8jMmH4EQAA")!
        let router = LoopbackRouter().on("/gz") { request in
            guard request.header("Accept-Encoding")?.contains("gzip") == true else { return .text("no gzip offered", status: 400) }
            return LoopbackResponse(headers: [("Content-Encoding", "gzip"), ("Content-Type", "text/plain")], body: gzipped)
        }
        try await withLoopback(router) { server, engine in
            let response = try await engine.perform(HTTPRequest(url: server.url("/gz")))
            #expect(response.status == 200)
            #expect(response.body == Data(String(repeating: "dsbuild gzip test line\n", count: 200).utf8))
        }
    }

    @Test func headHookAbortsBeforeTheBody() async throws {
        // The body would take ~100 s to send: only an abort at the headers finishes quickly.
        let router = LoopbackRouter().on("/noai") { _ in
            LoopbackResponse(headers: [("X-Robots-Tag", "noai")], body: Data(count: 100_000), pacing: (1000, .seconds(1)))
        }
        try await withLoopback(router) { server, engine in
            let sink = RecordingSink { head in head.headers.values("X-Robots-Tag").contains("noai") ? "X-Robots-Tag: noai" : nil }
            let start = ContinuousClock.now
            let error = await performExpectingError(engine, HTTPRequest(url: server.url("/noai")), sink: sink)
            #expect(error?.code == .aborted(reason: "X-Robots-Tag: noai"))
            #expect(sink.heads == 1)
            #expect(sink.bytes == 0)
            #expect(seconds(since: start) < 3)
        }
    }

    @Test func redirectsAreFollowedAndTheFinalHeadersReported() async throws {
        let router = LoopbackRouter()
            .on("/a") { _ in .redirect(to: "/b", status: 301) }
            .on("/b") { _ in .redirect(to: "/c", status: 307) }
            .on("/c") { _ in LoopbackResponse(headers: [("X-Final", "yes")], body: Data("end".utf8)) }
        try await withLoopback(router) { server, engine in
            let response = try await engine.perform(HTTPRequest(url: server.url("/a")))
            #expect(response.status == 200)
            #expect(response.redirectCount == 2)
            #expect(response.effectiveURL == server.url("/c"))
            #expect(response.headers["X-Final"] == "yes")
            #expect(response.headers["Location"] == nil)
            #expect(response.body == Data("end".utf8))
        }
    }

    @Test func maxRedirectsZeroReturnsTheRedirect() async throws {
        let router = LoopbackRouter().on("/a") { _ in .redirect(to: "/b") }
        try await withLoopback(router) { server, engine in
            let response = try await engine.perform(HTTPRequest(url: server.url("/a"), maxRedirects: 0))
            #expect(response.status == 302)
            #expect(response.headers["Location"] == "/b")
            #expect(server.requestCount("/b") == 0)
        }
    }

    @Test func perHostLimitBoundsConcurrentConnections() async throws {
        let router = LoopbackRouter().onPrefix("/item/") { request in
            usleep(20_000)
            return .text(request.path)
        }
        var configuration = HTTPEngine.Configuration.loopback()
        configuration.maxConnectionsPerHost = 4
        try await withLoopback(router, engine: configuration) { server, engine in
            let statuses = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                for i in 0..<64 {
                    group.addTask {
                        let response = try await engine.perform(HTTPRequest(url: server.url("/item/\(i)")))
                        #expect(response.body == Data("/item/\(i)".utf8))
                        return (i, response.status)
                    }
                }
                var all: [Int: Int] = [:]
                for try await (i, status) in group { all[i] = status }
                return all
            }
            #expect(statuses.count == 64)
            #expect(statuses.values.allSatisfy { $0 == 200 })
            #expect(server.totalRequests == 64)
            #expect(server.maxConcurrentConnections <= 4)
            #expect(server.maxConcurrentRequests <= 4)
            #expect(server.maxConcurrentRequests >= 2, "requests should overlap")
            #expect(server.connectionsAccepted <= 8, "connections should be reused")
        }
    }

    @Test func manyRequestsReuseAFewConnections() async throws {
        let router = LoopbackRouter().onPrefix("/n/") { .text($0.path) }
        var configuration = HTTPEngine.Configuration.loopback()
        configuration.maxConnectionsPerHost = 8
        try await withLoopback(router, engine: configuration) { server, engine in
            let ok = try await withThrowingTaskGroup(of: Bool.self) { group in
                for i in 0..<500 {
                    group.addTask {
                        let response = try await engine.perform(HTTPRequest(url: server.url("/n/\(i)")))
                        return response.body == Data("/n/\(i)".utf8)
                    }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(ok == 500)
            #expect(server.connectionsAccepted <= 8, "keep-alive connections are reused")
        }
    }

    @Test func hostLimitOverrideAndQueuedTimeouts() async throws {
        // One at a time for this host; each answer takes 150 ms, so the fifth request waits ~600 ms in the
        // engine's queue. Its 400 ms total timeout must only start when it is admitted.
        let router = LoopbackRouter().onPrefix("/one/") { request in
            usleep(150_000)
            return .text(request.path)
        }
        let server = try LoopbackHTTPServer(router: router)
        defer { server.stop() }
        var configuration = HTTPEngine.Configuration.loopback()
        configuration.hostLimits = [HTTPRequest.defaultHostKey(for: server.url("/")): 1]
        let engine = HTTPEngine(configuration: configuration)
        defer { engine.shutdown() }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<5 {
                group.addTask {
                    try await engine.perform(HTTPRequest(url: server.url("/one/\(i)"), totalTimeout: .milliseconds(400))).status
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == [200, 200, 200, 200, 200])
        #expect(server.maxConcurrentRequests == 1)
        #expect(server.maxConcurrentConnections == 1)
    }

    @Test func hostKeyGroupsServersUnderOneLimit() async throws {
        // Two servers (two ports, two default host keys) share one explicit key limited to 1 at a time.
        let gauge = Mutex((now: 0, max: 0))
        let handler: @Sendable (LoopbackRequest) -> LoopbackResponse = { _ in
            gauge.withLock { $0.now += 1; $0.max = max($0.max, $0.now) }
            usleep(30_000)
            gauge.withLock { $0.now -= 1 }
            return .text("ok")
        }
        let a = try LoopbackHTTPServer(handler: handler)
        let b = try LoopbackHTTPServer(handler: handler)
        defer { a.stop(); b.stop() }
        let engine = HTTPEngine(configuration: .loopback(hostLimits: ["mirrors": 1]))
        defer { engine.shutdown() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<6 {
                let server = i.isMultiple(of: 2) ? a : b
                group.addTask {
                    let response = try await engine.perform(HTTPRequest(url: server.url("/x\(i)"), hostKey: "mirrors"))
                    #expect(response.status == 200)
                }
            }
            try await group.waitForAll()
        }
        #expect(gauge.withLock { $0.max } == 1)
        #expect(a.totalRequests == 3 && b.totalRequests == 3)
    }

    @Test func cancellingTheTaskStopsTheTransfer() async throws {
        let router = LoopbackRouter().on("/slow") { _ in
            LoopbackResponse(body: Data(count: 1000), pacing: (10, .milliseconds(100)))
        }
        try await withLoopback(router) { server, engine in
            let start = ContinuousClock.now
            let task = Task { () -> HTTPError? in
                await performExpectingError(engine, HTTPRequest(url: server.url("/slow")))
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(server.openConnections == 1)
            task.cancel()
            let error = await task.value
            #expect(error?.code == .cancelled)
            #expect(seconds(since: start) < 3)
            // The connection is closed, so the server stops sending.
            var waited = 0
            while server.openConnections > 0, waited < 300 {
                try await Task.sleep(for: .milliseconds(10))
                waited += 1
            }
            #expect(server.openConnections == 0)
            #expect(server.bodyBytesSent("/slow") < 1000)
        }
    }

    @Test func cancellingAQueuedTransferNeverSendsIt() async throws {
        let router = LoopbackRouter()
            .on("/slow") { _ in LoopbackResponse(body: Data("done".utf8), delayBeforeHeaders: .milliseconds(400)) }
            .on("/queued") { _ in .text("should not be asked") }
        var configuration = HTTPEngine.Configuration.loopback()
        configuration.maxConnectionsPerHost = 1
        try await withLoopback(router, engine: configuration) { server, engine in
            let first = Task { try await engine.perform(HTTPRequest(url: server.url("/slow"))).status }
            try await Task.sleep(for: .milliseconds(100))
            let queued = Task { await performExpectingError(engine, HTTPRequest(url: server.url("/queued"))) }
            try await Task.sleep(for: .milliseconds(50))
            queued.cancel()
            #expect(await queued.value?.code == .cancelled)
            #expect(try await first.value == 200)
            #expect(server.requestCount("/queued") == 0)
        }
    }

    @Test func cancellingBeforeStartNeverSendsTheRequest() async throws {
        try await withLoopback(LoopbackRouter()) { server, engine in
            let task = Task { () -> HTTPError? in
                withUnsafeCurrentTask { $0?.cancel() }
                return await performExpectingError(engine, HTTPRequest(url: server.url("/never")))
            }
            #expect(await task.value?.code == .cancelled)
            #expect(server.requestCount("/never") == 0)
        }
    }
}
