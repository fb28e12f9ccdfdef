import _DSBuildTestSupport
import Dataset
import Foundation
import Generate
import Testing

/// The client over the real libcurl engine against the fake endpoint on the loopback server.
@Suite struct LoopbackClientTests {
    func client(_ server: LoopbackHTTPServer, workspace: Workspace) -> OpenAIClient {
        var configuration = OpenAIClientConfiguration(baseURL: server.url("/v1"), apiKey: "sk-loopback-KEY")
        configuration.backoffBase = 0.01
        configuration.backoffMax = 0.05
        configuration.timeout = 5
        return OpenAIClient(configuration: configuration, transport: HTTPChatTransport(maxConnections: 8),
                            cache: LLMCache(manifest: workspace.manifest))
    }

    @Test func retriesRateLimitsServerErrorsAndDroppedConnectionsOverHTTP() async throws {
        let endpoint = FakeChatEndpoint { _ in .content(#"{"answer":"gat","score":4}"#) }
        endpoint.enqueue(.rateLimited(headers: ["retry-after-ms": "30", "x-ratelimit-limit-requests": "600",
                                                "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "30ms"]),
                         .llamaError(status: 503, message: "Loading model"),
                         .dropConnection)
        let server = try endpoint.serve()
        defer { server.stop() }
        let dir = TemporaryDirectory("gen-http")
        let workspace = try Workspace.create(at: dir.url)
        let client = client(server, workspace: workspace)
        let result = try await client.complete(schemaRequest())
        #expect(result.jsonObject?["answer"] as? String == "gat")
        // libcurl itself resends once when a reused connection is reset before any response byte, so the reset
        // may cost the client no attempt of its own.
        #expect((3...4).contains(result.attempts))
        let sent = server.requestCount("/v1/chat/completions")
        #expect(sent == 4)
        #expect(endpoint.authorizationHeaders.last == "Bearer sk-loopback-KEY")
        #expect(await client.pacer.currentLimits.requestsPerMinute == 600)
        let cached = try await client.complete(schemaRequest())
        #expect(cached.fromCache)
        #expect(server.requestCount("/v1/chat/completions") == sent)
    }

    @Test func quotaErrorOverHTTPIsFatal() async throws {
        let endpoint = FakeChatEndpoint()
        endpoint.enqueue(.insufficientQuota)
        let server = try endpoint.serve()
        defer { server.stop() }
        let dir = TemporaryDirectory("gen-http")
        let workspace = try Workspace.create(at: dir.url)
        await #expect { try await client(server, workspace: workspace).complete(schemaRequest()) } throws: {
            ($0 as! ChatError).code == .insufficientQuota
        }
        #expect(server.requestCount("/v1/chat/completions") == 1)
    }
}
