import _DSBuildTestSupport
import Dataset
import Foundation
import Generate
import GRDB
import Testing

/// `dsbuild describe` as a user runs it, against the fake endpoint on the loopback server.
@Suite(.serialized) struct DescribeResumeTests {
    @Test func resumeAfterKillWritesEveryDescriptionOnceWithoutRepeatingAnsweredRequests() async throws {
        let keywords = (1...16).map { "Keyword\($0)" }  // 16 items, 2 in flight, 0.3 s each: about 2.4 s uninterrupted
        let fixture = try GenerateFixture(keywords.map { KeywordEntry(text: $0, category: "food") })
        let endpoint = FakeChatEndpoint(latency: 0.3, responder: describingResponder(keywords.reversed()))
        let server = try endpoint.serve()
        defer { server.stop() }
        let key = "sk-resume-SECRET-42"
        let runner = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": key])
        let arguments = ["describe", "--workspace", fixture.workspace.root.path, "--model", "fake-model", "--concurrency", "2", "--json"]

        let first = try runner.start(arguments)
        // Kill once 4 requests have been answered (the endpoint counts them; the manifest lags a little).
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, endpoint.requestCount < 6 {
            usleep(10_000)
        }
        first.kill()
        let killed = first.wait()
        #expect(killed.signalled)
        let rowsBeforeKill = try fixture.rows().count
        #expect(rowsBeforeKill >= 1 && rowsBeforeKill < 16)

        let second = try runner.run(arguments)
        #expect(second.status == 0, "\(second.stderr)")
        let summary = try second.json()
        #expect(summary["pending"] as? Int == 16 - rowsBeforeKill)

        let rows = try fixture.rows()
        #expect(rows.count == 16)
        #expect(Set(rows.map { $0["keyword"] as String }).count == 16)
        #expect(rows.allSatisfy { $0["status"] as String == "accepted" })
        // Requests answered before the kill were cached; only those in flight at the kill (≤ concurrency) repeat.
        let all = endpoint.bodies.map { ChatRequestBody.data($0) }
        let repeated = all.count - Set(all).count
        #expect(repeated <= 2, "\(repeated) request bodies were sent twice")
        #expect(Set(all).count == 16)
        // The key went to the endpoint only.
        #expect(endpoint.authorizationHeaders.allSatisfy { $0 == "Bearer \(key)" })
        #expect(!second.stdout.contains(key) && !second.stderr.contains(key))
        try fixture.manifest.checkpoint()
        let manifestBytes = try Data(contentsOf: fixture.manifest.path)
        #expect(manifestBytes.range(of: Data(key.utf8)) == nil)
        let counts = try fixture.manifest.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM llm_cache") }
        #expect(counts == 16)
    }

    @Test func quotaExhaustionStopsTheCommandWithAClearMessage() async throws {
        let fixture = try GenerateFixture([KeywordEntry(text: "Galbi", category: "food"), KeywordEntry(text: "Yukhoe", category: "food")])
        let endpoint = FakeChatEndpoint { _ in .insufficientQuota }
        let server = try endpoint.serve()
        defer { server.stop() }
        let runner = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "k"])
        let result = try runner.run(["describe", "--workspace", fixture.workspace.root.path, "--concurrency", "1"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("insufficient_quota"))
        #expect(endpoint.requestCount == 1)
    }
}

@Suite struct MCQCommandTests {
    @Test func importAndExportThroughTheCommand() throws {
        let fixture = try GenerateFixture([])
        let runner = CommandRunner()
        let ws = fixture.workspace.root.path
        let imported = try runner.run(["mcq", "--workspace", ws, "--import-k-viscuit", TestPaths.kViscuitAnnotations.path, "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try imported.json()["imported"] as? Int == 657)
        let out = fixture.directory.path("kv.jsonl").path
        let exported = try runner.run(["mcq", "--workspace", ws, "--export", out, "--format", "k-viscuit", "--json"])
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n").count == 657)
        let bad = try runner.run(["mcq", "--workspace", ws, "--export", out, "--format", "csv"])
        #expect(bad.status != 0)
    }
}
