import Dataset
import Foundation
import HTTP
import Synchronization
import Testing
import _DSBuildTestSupport

/// Runs `body` against a fresh loopback server and engine, and stops both afterwards.
func withLoopback<T>(
    _ router: LoopbackRouter,
    engine configuration: HTTPEngine.Configuration = .loopback(userAgent: HTTPEngine.userAgent(contact: "tests@example.org")),
    _ body: (LoopbackHTTPServer, HTTPEngine) async throws -> T
) async throws -> T {
    let server = try LoopbackHTTPServer(router: router)
    let engine = HTTPEngine(configuration: configuration)
    defer {
        engine.shutdown()
        server.stop()
    }
    return try await body(server, engine)
}

/// Expects `perform` to fail and returns the error (or nil after recording an issue).
func performExpectingError(_ engine: HTTPEngine, _ request: HTTPRequest, sink: (any HTTPBodySink)? = nil) async -> HTTPError? {
    do {
        let response = try await engine.perform(request, sink: sink)
        Issue.record("expected an error, got http \(response.status) with \(response.bytesDownloaded) bytes")
        return nil
    } catch {
        return error
    }
}

/// Counts what a sink saw; optionally refuses the head.
final class RecordingSink: HTTPBodySink {
    private let state = Mutex<(heads: Int, bytes: Int)>((0, 0))
    private let refuse: (@Sendable (HTTPResponseHead) -> String?)?

    init(refuse: (@Sendable (HTTPResponseHead) -> String?)? = nil) { self.refuse = refuse }

    func receiveHead(_ head: HTTPResponseHead) -> HTTPSinkDecision {
        state.withLock { $0.heads += 1 }
        if let reason = refuse?(head) { return .abort(reason) }
        return .proceed
    }

    func receive(_ chunk: UnsafeRawBufferPointer) -> HTTPSinkDecision {
        let count = chunk.count
        state.withLock { $0.bytes += count }
        return .proceed
    }

    var heads: Int { state.withLock { $0.heads } }
    var bytes: Int { state.withLock { $0.bytes } }
}

/// A counter shared between a test and its handler.
final class Counter: Sendable {
    private let value = Mutex(0)
    /// Increments and returns the new value.
    func next() -> Int { value.withLock { $0 += 1; return $0 } }
    var current: Int { value.withLock { $0 } }
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
}

/// 1 MiB of `i % 251`; its SHA-256 was computed independently (Python hashlib).
let mebibytePattern = Data((0..<(1 << 20)).map { UInt8($0 % 251) })
let mebibytePatternSHA256 = "631b84027d6b9e52b539c4e8373622d23032dfadc64d60af87339c9037e4f769"

extension HTTPEngine.Configuration {
    /// Direct connections (an `http_proxy` in the environment must not capture loopback traffic).
    static func loopback(userAgent: String = "dsbuild-tests", hostLimits: [String: Int] = [:]) -> HTTPEngine.Configuration {
        HTTPEngine.Configuration(userAgent: userAgent, hostLimits: hostLimits, proxy: .direct)
    }
}
