import _DSBuildTestSupport
import Dataset
import Foundation
import Generate
import GRDB
import Synchronization
import Testing

/// Issue 15 through `dsbuild describe` against the fake endpoint on loopback: bad 200 replies never reach the
/// cache (case 4), a long Retry-After stops the run and a shorter one is shown (case 7), an oversized reply is
/// fetched once (case 11).
@Suite(.serialized) struct ReplyHardeningTests {
    static let keywords = ["Galbi", "Yukhoe"]

    static func fixture(recipe: String) throws -> GenerateFixture {
        let fixture = try GenerateFixture(keywords.map { KeywordEntry(text: $0, category: "food") })
        try recipe.write(to: fixture.workspace.recipeURL, atomically: true, encoding: .utf8)
        return fixture
    }

    static func cacheRows(_ fixture: GenerateFixture) throws -> [String] {
        try fixture.manifest.read { db in try String.fetchAll(db, sql: "SELECT response FROM llm_cache") }
    }

    /// The bodies a misbehaving endpoint or a proxy in front of it answers with status 200.
    static let badBodies: [FakeChatEndpoint.Behaviour] = [
        .raw(status: 200, contentType: "text/html", body: "<!DOCTYPE html><html><body><form action=/login>Sign in</form></body></html>"),
        .raw(status: 200, contentType: "application/json", body: #"{"id": "chatcmpl-1", "object": "chat.completion", "model": "fake-model"}"#),
        .raw(status: 200, contentType: "application/json", body: #"{"id": "chatcmpl-2", "object": "chat.completion", "choices": []}"#),
        .raw(status: 200, contentType: "application/json", body: #"{"id": "chatcmpl-3", "choices": [{"index": 0, "message": {"role": "assistant"}, "finish_reason": "stop"}]}"#),
    ]

    @Test func a200ThatIsNotAChatCompletionIsRetriedNeverCachedAndTheRerunAsksAgain() throws {
        let fixture = try Self.fixture(recipe: "llm:\n  model: fake-model\n  max_attempts: 4\n")
        let healthy = Mutex(false)
        let counter = Mutex(0)
        let good = describingResponder(Self.keywords)
        let endpoint = FakeChatEndpoint { body in
            if healthy.withLock({ $0 }) { return good(body) }
            return counter.withLock { n in defer { n += 1 }; return Self.badBodies[n % Self.badBodies.count] }
        }
        let server = try endpoint.serve()
        defer { server.stop() }
        let runner = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-hygiene"])
        let arguments = ["describe", "--workspace", fixture.workspace.root.path, "--concurrency", "1"]

        let first = try runner.run(arguments)
        #expect(first.status == 1, "every item failed: \(first.stderr)")
        #expect(endpoint.requestCount == 8, "4 attempts for each of the 2 items")
        // Each item saw all four bad bodies; its message names the last one.
        #expect(first.stderr.contains("is not a chat completion (the message has no content)"), "\(first.stderr)")
        #expect(try Self.cacheRows(fixture).isEmpty, "nothing bad is cached")
        let failed = try fixture.rows()
        #expect(failed.count == 2 && failed.allSatisfy { $0["status"] as String == "failed" && $0["reason"] as String? == "unavailable" })

        healthy.withLock { $0 = true }
        let second = try runner.run(arguments + ["--json"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(endpoint.requestCount == 10, "the rerun asked again instead of replaying a failure")
        let rows = try fixture.rows()
        #expect(rows.count == 2 && rows.allSatisfy { $0["status"] as String == "accepted" })
        let cached = try Self.cacheRows(fixture)
        #expect(cached.count == 2)
        #expect(cached.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["choices"] is [Any] })

        let third = try runner.run(arguments + ["--json"])
        #expect(third.status == 0)
        #expect(endpoint.requestCount == 10)
    }

    @Test func aRetryAfterBeyondMaxWaitStopsDescribeNamingTheEndpointAndTheWait() throws {
        let fixture = try Self.fixture(recipe: "llm:\n  model: fake-model\n")
        let endpoint = FakeChatEndpoint { _ in .rateLimited(headers: ["retry-after": "3600"]) }
        let server = try endpoint.serve()
        defer { server.stop() }
        let runner = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-wait"])
        let started = Date()
        let result = try runner.run(["describe", "--workspace", fixture.workspace.root.path, "--concurrency", "1"])
        #expect(Date().timeIntervalSince(started) < 60, "no hour-long stall")
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("\(server.url("/v1/chat/completions").absoluteString) asked to wait 3600 s (HTTP 429)"), "\(result.stderr)")
        #expect(result.stderr.contains("llm.max_wait_seconds (300 s)"))
        #expect(endpoint.requestCount == 1)
        #expect(try fixture.rows().isEmpty, "nothing is decided: the items stay pending")
    }

    @Test func aRateLimitWindowClosedBeyondMaxWaitStopsDescribeInsteadOfStalling() throws {
        let fixture = try Self.fixture(recipe: "llm:\n  model: fake-model\n")
        let completion = #"{"id": "c", "object": "chat.completion", "model": "fake-model", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Galbi is grilled beef ribs, marinated in soy sauce, pear and garlic, cooked over charcoal at the table and eaten wrapped in lettuce with ssamjang and garlic; a festive dish of Korean barbecue."}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 10, "completion_tokens": 40, "total_tokens": 50}}"#
        let endpoint = FakeChatEndpoint { _ in
            .raw(status: 200, contentType: "application/json", body: completion,
                 headers: ["x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "1h0m0s"])
        }
        let server = try endpoint.serve()
        defer { server.stop() }
        let runner = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-wait"])
        let started = Date()
        let result = try runner.run(["describe", "--workspace", fixture.workspace.root.path, "--concurrency", "1"])
        #expect(Date().timeIntervalSince(started) < 60, "no hour-long stall")
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.contains("closed its rate-limit window for 3600 s"), "\(result.stderr)")
        #expect(endpoint.requestCount == 1, "the second request never started")
    }

    @Test func aWaitOverTenSecondsIsShownOnTheProgressLineWithoutVerbose() throws {
        let fixture = try Self.fixture(recipe: "llm:\n  model: fake-model\n")
        let endpoint = FakeChatEndpoint(responder: describingResponder(Self.keywords))
        endpoint.enqueue(.rateLimited(headers: ["retry-after": "11"]))
        let server = try endpoint.serve()
        defer { server.stop() }
        let runner = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-wait"])
        let result = try runner.run(["describe", "--workspace", fixture.workspace.root.path, "--concurrency", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("waiting 11s for 127.0.0.1 (the server asked)"), "\(result.stderr)")
        #expect(try fixture.rows().allSatisfy { $0["status"] as String == "accepted" })
    }

    @Test func aReplyOverTheSizeLimitIsFetchedOnceNotRetried() throws {
        let fixture = try Self.fixture(recipe: "llm:\n  model: fake-model\n  max_reply_bytes: 100000\n")
        let endpoint = FakeChatEndpoint { _ in .content(String(repeating: "Galbi is grilled beef. ", count: 20_000)) }
        let server = try endpoint.serve()
        defer { server.stop() }
        let runner = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-big"])
        let result = try runner.run(["describe", "--workspace", fixture.workspace.root.path, "--concurrency", "1"])
        #expect(result.status == 1)
        #expect(endpoint.requestCount == 2, "one fetch per item, not max_attempts")
        let rows = try fixture.rows()
        #expect(rows.count == 2)
        #expect(rows.allSatisfy { ($0["detail"] as String?)?.contains("too large") == true }, "\(rows.map { $0["detail"] as String? })")
        #expect(try Self.cacheRows(fixture).isEmpty)
    }
}
