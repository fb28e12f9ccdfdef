import _DSBuildTestSupport
import Dataset
import Foundation
import Generate
import Testing

/// bench/generate: achieved requests/s against the loopback fake with fixed latency and an advertised rate limit,
/// at concurrency 8/32/64. Runs only with DSBUILD_BENCH=1 (bench/generate/run.sh); prints one line per level.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["DSBUILD_BENCH"] != nil))
struct GenerateBench {
    static let latency = 0.2
    static let perSecond = 30          // advertised: 1,800 requests per minute
    /// The fake enforces the limit over sliding windows of this many seconds (OpenAI's are a minute).
    static let window = Double(ProcessInfo.processInfo.environment["DSBUILD_BENCH_WINDOW"] ?? "") ?? 10
    static let requests = 450

    @Test(arguments: [8, 32, 64])
    func throughputAgainstRateLimitedEndpoint(concurrency: Int) async throws {
        let endpoint = FakeChatEndpoint(latency: Self.latency, limits: .init(requests: Int(Double(Self.perSecond) * Self.window), window: Self.window)) { _ in .content("ok") }
        let server = try endpoint.serve()
        defer { server.stop() }
        let dir = TemporaryDirectory("bench")
        let workspace = try Workspace.create(at: dir.url)
        var configuration = OpenAIClientConfiguration(baseURL: server.url("/v1"), apiKey: "k")
        // The recipe states the account's limit (llm.requests_per_minute); the headers confirm it.
        configuration.limits = .init(concurrency: concurrency, requestsPerMinute: Double(Self.perSecond * 60))
        let client = OpenAIClient(configuration: configuration, transport: HTTPChatTransport(maxConnections: concurrency),
                                  cache: LLMCache(manifest: workspace.manifest))
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            for _ in 0..<concurrency {
                let i = next; next += 1
                group.addTask { _ = try await client.complete(ChatRequest(model: "m", messages: [.user("request \(i)")], purpose: "bench")) }
            }
            while try await group.next() != nil, next < Self.requests {
                let i = next; next += 1
                group.addTask { _ = try await client.complete(ChatRequest(model: "m", messages: [.user("request \(i)")], purpose: "bench")) }
            }
            try await group.waitForAll()
        }
        let seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18 + Double((ContinuousClock.now - started).components.seconds)
        let achieved = Double(Self.requests) / seconds
        let ceiling = min(Double(Self.perSecond), Double(concurrency) / Self.latency)
        let line = String(format: "bench/generate window=%.0fs concurrency=%d requests=%d seconds=%.2f achieved=%.1f req/s ceiling=%.1f req/s (%.1f%%) 429s=%d retries=%d",
                          Self.window, concurrency, Self.requests, seconds, achieved, ceiling, 100 * achieved / ceiling,
                          endpoint.limitViolations, client.ledger.totals.retries)
        print(line)
        if let out = ProcessInfo.processInfo.environment["DSBUILD_BENCH_OUT"] {
            let handle = FileHandle(forWritingAtPath: out) ?? { FileManager.default.createFile(atPath: out, contents: nil); return FileHandle(forWritingAtPath: out)! }()
            handle.seekToEndOfFile()
            handle.write(Data((line + "\n").utf8))
        }
        #expect(endpoint.limitViolations == 0)
    }
}
