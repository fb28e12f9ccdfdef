import Dataset
import Foundation
import Synchronization
import Testing
import _DSBuildTestSupport

/// Hostile relevance-judge replies through the commands, on `RelevanceJudgeTests`' planted K-Viscuit workspace.
@Suite(.serialized) struct RelevanceAttackTests {
    static let apiKey = "sk-relevance-echo-0123456789"

    static func options(_ body: [String: Any]) -> [String] {
        let text = FakeChatEndpoint.firstUserText(body)
        guard let list = text.range(of: "Options:\n") else { return [] }
        return text[list.upperBound...].split(separator: "\n").compactMap { $0.hasPrefix("- ") ? String($0.dropFirst(2)) : nil }
    }

    /// A judge that answered out of shape on every re-ask is asked again on the next run — not answered from the
    /// cache with the same non-answer forever.
    @Test func aNonAnswerIsAskedAgainOnTheNextRunNotReplayedFromTheCache() throws {
        let p = try RelevanceJudgeTests.Planted()
        let w = p.workspace.path
        let verifier = try PerfectVerifier(truth: p.truth)
        let healthy = Mutex(false)
        let chat = FakeChatEndpoint(responder: { body in
            guard PerfectVerifier.schemaName(body) == "relevance_judgement" else { return PipelineChatResponder.respondAsAModel(body) }
            if healthy.withLock({ $0 }) { return verifier.answerRelevance(body)! }
            // Not verbatim, and a confidence as a string.
            let first = Self.options(body).first ?? "x"
            return .content(#"{"choice": "\#(first.uppercased()) (probably)", "confidence": "high", "reason": "looks like it"}"#)
        })
        let server = try chat.serve()
        defer { server.stop() }
        let cli = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": Self.apiKey])
        #expect(try cli.run(["init", w, "--recipe", p.tmp.path("recipe.yaml").path, "--quiet"]).status == 0)
        #expect(try cli.run(["collect", "--workspace", w, "--quiet"]).status == 0)
        let failed = try cli.run(["filter", "--workspace", w, "--quiet"])
        #expect(failed.status == 1, "\(failed.stderr)")
        #expect(try Hardening.rows(p.workspace, "SELECT COUNT(*) FROM filter_decisions WHERE rule = 'relevance' AND pass >= 0") == [["0"]])
        #expect(try Hardening.rows(p.workspace, "SELECT COUNT(*) FROM filter_decisions WHERE rule = 'relevance' AND pass = -1") == [["\(RelevanceJudgeTests.judgedPairs)"]])

        healthy.withLock { $0 = true }
        let before = RelevanceJudgeTests.relevanceRequests(chat)
        let rerun = try cli.run(["filter", "--workspace", w, "--quiet"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(RelevanceJudgeTests.relevanceRequests(chat) == before + RelevanceJudgeTests.judgedPairs, "each image asked again, once")
        #expect(try Hardening.rows(p.workspace, "SELECT COUNT(*) FROM filter_decisions WHERE rule = 'relevance' AND pass >= 0") == [["\(RelevanceJudgeTests.judgedPairs)"]])
    }

    /// An endpoint that echoes the API key inside an otherwise valid verdict: no form of the key lands in any file
    /// of the workspace (the manifest with its request cache, the report).
    @Test func aVerdictEchoingTheKeyLeavesNoTraceOfIt() throws {
        let p = try RelevanceJudgeTests.Planted()
        let w = p.workspace.path
        let chat = FakeChatEndpoint(responder: { body in
            guard PerfectVerifier.schemaName(body) == "relevance_judgement" else { return PipelineChatResponder.respondAsAModel(body) }
            let reply: [String: Any] = ["choice": Self.options(body).first ?? "x", "confidence": 0.9,
                                        "reason": "your key \(Self.apiKey) and Bearer \(Self.apiKey)"]
            let data = (try? JSONSerialization.data(withJSONObject: reply)) ?? Data()
            return .content(String(decoding: data, as: UTF8.self))
        })
        let server = try chat.serve()
        defer { server.stop() }
        let cli = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": Self.apiKey])
        #expect(try cli.run(["init", w, "--recipe", p.tmp.path("recipe.yaml").path, "--quiet"]).status == 0)
        #expect(try cli.run(["collect", "--workspace", w, "--quiet"]).status == 0)
        let filtered = try cli.run(["filter", "--workspace", w])
        #expect(filtered.status == 0, "\(filtered.stderr)")
        #expect(try Hardening.rows(p.workspace, "SELECT COUNT(*) FROM filter_decisions WHERE rule = 'relevance' AND pass >= 0") == [["\(RelevanceJudgeTests.judgedPairs)"]])
        #expect(try cli.run(["report", "--workspace", w, "--quiet"]).status == 0)
        let forms = CanarySweep.forms(Self.apiKey)
        #expect(!forms.contains { filtered.stdout.contains($0) || filtered.stderr.contains($0) })
        for (path, data) in try RunFiles.all(p.workspace) {
            let found = forms.filter { data.range(of: Data($0.utf8)) != nil }
            #expect(found.isEmpty, "\(path) holds the key as \(found)")
        }
    }

    /// A dry run whose judge fails counts the pairs undecided, not kept, and exits 1, as the real run would.
    @Test func aDryRunWithAFailingJudgeKeepsNothingItCouldNotDecide() throws {
        let p = try RelevanceJudgeTests.Planted()
        let w = p.workspace.path
        let chat = FakeChatEndpoint(responder: { body in
            PerfectVerifier.schemaName(body) == "relevance_judgement" ? .error(status: 503, message: "overloaded") : PipelineChatResponder.respondAsAModel(body)
        })
        let server = try chat.serve()
        defer { server.stop() }
        let cli = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": Self.apiKey])
        #expect(try cli.run(["init", w, "--recipe", p.tmp.path("recipe.yaml").path, "--quiet"]).status == 0)
        #expect(try cli.run(["collect", "--workspace", w, "--quiet"]).status == 0)
        let dry = try cli.run(["filter", "--workspace", w, "--dry-run", "--json"])
        #expect(dry.status == 1, "\(dry.stderr)")
        let summary = try dry.json()
        #expect(summary["kept"] as? Int == 0 && summary["undecided"] as? Int == RelevanceJudgeTests.judgedPairs, "\(summary)")
        #expect(try Hardening.rows(p.workspace, "SELECT COUNT(*) FROM filter_decisions") == [["0"]], "a dry run records nothing")
    }

    /// `filter --relevance` killed with SIGKILL mid-run, then run again: the same decisions as an uninterrupted run,
    /// and no answered request asked twice (only the ones in flight at the kill, at most `llm.concurrency`).
    @Test func aKilledRelevanceRunResumesWithoutPayingTwice() throws {
        let p = try RelevanceJudgeTests.Planted()
        let w = p.workspace.path
        let verifier = try PerfectVerifier(truth: p.truth)
        let chat = FakeChatEndpoint(responder: { body in
            guard let answer = verifier.answerRelevance(body) else { return PipelineChatResponder.respondAsAModel(body) }
            return .slow(seconds: 0.4, then: answer)
        })
        let server = try chat.serve()
        defer { server.stop() }
        let cli = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": Self.apiKey])
        #expect(try cli.run(["init", w, "--recipe", p.tmp.path("recipe.yaml").path, "--quiet"]).status == 0)
        #expect(try cli.run(["collect", "--workspace", w, "--quiet"]).status == 0)
        let running = try cli.start(["filter", "--workspace", w, "--quiet"])
        let deadline = Date().addingTimeInterval(30)
        while RelevanceJudgeTests.relevanceRequests(chat) < 4 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        Thread.sleep(forTimeInterval: 0.2)
        running.kill()
        #expect(running.wait().signalled)
        let beforeRerun = RelevanceJudgeTests.relevanceRequests(chat)
        #expect(beforeRerun < RelevanceJudgeTests.judgedPairs, "the kill came too late to test anything")
        let rerun = try cli.run(["filter", "--workspace", w, "--quiet"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let bodies = chat.bodies.filter { PerfectVerifier.schemaName($0) == "relevance_judgement" }
        let distinct = Set(bodies.map { FakeChatEndpoint.firstUserText($0) + "|" + PerfectVerifier.images(in: $0).map { ContentHash.sha256Hex($0) }.joined() })
        #expect(distinct.count == RelevanceJudgeTests.judgedPairs)
        #expect(bodies.count <= RelevanceJudgeTests.judgedPairs + 2, "\(bodies.count) requests for \(RelevanceJudgeTests.judgedPairs) images")
        let decisions = try Hardening.rows(p.workspace, "SELECT pass, COUNT(*) FROM filter_decisions WHERE rule = 'relevance' GROUP BY pass ORDER BY pass")
        #expect(decisions == [["0", "3"], ["1", "\(RelevanceJudgeTests.judgedPairs - 3)"]], "\(decisions)")
        #expect(try cli.run(["filter", "--workspace", w, "--quiet"]).status == 0)
        #expect(RelevanceJudgeTests.relevanceRequests(chat) == bodies.count, "a third run asks nothing")
    }

    /// A 429 asking to wait an hour (beyond llm.max_wait_seconds) stops the run (exit 2) with nothing decided, and
    /// the next run judges every image.
    @Test func aLongRetryAfterStopsTheRunAndDecidesNothing() throws {
        let p = try RelevanceJudgeTests.Planted()
        let w = p.workspace.path
        let verifier = try PerfectVerifier(truth: p.truth)
        let limited = Mutex(true)
        let chat = FakeChatEndpoint(responder: { body in
            guard let answer = verifier.answerRelevance(body) else { return PipelineChatResponder.respondAsAModel(body) }
            return limited.withLock { $0 } ? .rateLimited(headers: ["Retry-After": "3600"]) : answer
        })
        let server = try chat.serve()
        defer { server.stop() }
        let cli = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": Self.apiKey])
        #expect(try cli.run(["init", w, "--recipe", p.tmp.path("recipe.yaml").path, "--quiet"]).status == 0)
        #expect(try cli.run(["collect", "--workspace", w, "--quiet"]).status == 0)
        let stopped = try cli.run(["filter", "--workspace", w, "--quiet"])
        #expect(stopped.status == 2, "\(stopped.stderr)")
        #expect(try Hardening.rows(p.workspace, "SELECT COUNT(*) FROM filter_decisions WHERE rule = 'relevance' AND pass >= 0") == [["0"]])
        #expect(try Hardening.rows(p.workspace, "SELECT COUNT(*) FROM kept_pairs") == [["0"]])
        limited.withLock { $0 = false }
        let rerun = try cli.run(["filter", "--workspace", w, "--quiet"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try Hardening.rows(p.workspace, "SELECT COUNT(*) FROM filter_decisions WHERE rule = 'relevance' AND pass >= 0") == [["\(RelevanceJudgeTests.judgedPairs)"]])
    }
}
