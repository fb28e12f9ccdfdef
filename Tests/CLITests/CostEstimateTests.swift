import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

/// `dsbuild estimate` and `llm.budget` through the commands, on K-Viscuit images served by a fake Commons and a fake
/// chat endpoint that reports `usage` as a provider bills it (`ProviderUsage`: its own tokenizer, OpenAI's image
/// tile rule) — so the estimate must be calibrated to land near it.
@Suite(.serialized) struct CostEstimateTests {
    struct Fixture {
        let tmp = TemporaryDirectory("dsbuild-cost")
        let commons: FakeCommonsAPI
        let chat: FakeChatEndpoint
        let chatServer: LoopbackHTTPServer
        let keywords: [(keyword: String, category: String)]
        let cli: CommandRunner

        init(keywords count: Int) throws {
            let items = try KViscuitFixture.type1Items().filter {
                FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
            }
            var seen = Set<String>()
            let unique = Array(items.filter { seen.insert($0.keyword).inserted }.prefix(count))
            var files: [String: [URL]] = [:]
            for item in unique { files[item.keyword] = [TestPaths.kViscuitImages.appendingPathComponent(item.imagePath)] }
            commons = try FakeCommonsAPI(files: files)
            chat = FakeChatEndpoint(responder: PipelineChatResponder.respond, usage: { body, text in
                (ProviderUsage.promptTokens(body, tokenizer: ProviderUsage.byteTokenizer), ProviderUsage.byteTokenizer(text))
            })
            chatServer = try chat.serve()
            keywords = unique.map { ($0.keyword, $0.category.lowercased()) }
            cli = CommandRunner(environment: ["OPENAI_BASE_URL": chatServer.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-cost-test"])
        }

        func stop() { commons.stop(); chatServer.stop() }

        /// A keyword file of the first `n` keywords (CRLF, as a spreadsheet writes it).
        func keywordFile(_ n: Int) throws -> URL {
            var csv = "keyword,category\r\n"
            for (keyword, category) in keywords.prefix(n) { csv += "\"\(keyword.replacingOccurrences(of: "\"", with: "\"\""))\",\(category)\r\n" }
            let url = tmp.path("keywords-\(n).csv")
            try csv.write(to: url, atomically: true, encoding: .utf8)
            return url
        }

        func recipe(_ name: String, llmExtra: String = "", describeVerify: Bool = false) throws -> URL {
            let url = tmp.path(name)
            try """
                name: cost
                contact: https://example.org/dsbuild-tests
                llm:
                  model: fake-model
                  concurrency: 2
                  prices:
                    fake-model: {prompt: 2.5, completion: 10, cached_prompt: 1.25}
                \(llmExtra)
                collect:
                  per_keyword: 2
                  licenses: [cc0, cc-by, cc-by-sa]
                  allow_hosts: ["127.0.0.1:\(commons.server.port)"]
                  sources:
                    commons:
                      base_url: \(commons.baseURL)
                      thumbnail_width: 1280
                filter:
                  min_short_side: 100
                  aspect_ratio: [0.3, 3.0]
                describe:
                  aspects: [visual]
                  modes: [text-only, image-grounded]
                  languages: [en]
                  verify: \(describeVerify)
                mcq:
                  types: [1, 2]
                  test_fraction: 0.25
                  seed: 7
                """.write(to: url, atomically: true, encoding: .utf8)
            return url
        }

        @discardableResult
        func run(_ arguments: [String], expect status: Int32 = 0) throws -> CommandRunner.Result {
            let result = try cli.run(arguments)
            #expect(result.status == status, "\(arguments.joined(separator: " ")): \(result.stderr)")
            return result
        }
    }

    /// Tokens the workspace's cache recorded (the endpoint's own counts).
    static func cacheUsage(_ ws: URL) throws -> (requests: Int, prompt: Int, completion: Int) {
        let queue = try DatabaseQueue(path: ws.appendingPathComponent("dsbuild.sqlite").path)
        return try queue.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT COUNT(*), COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0) FROM llm_cache")!
            return (row[0], row[1], row[2])
        }
    }

    static func estimate(_ f: Fixture, _ ws: URL, _ extra: [String] = []) throws -> [String: Any] {
        let result = try f.run(["estimate", "--workspace", ws.path, "--json"] + extra)
        return try #require(try result.json()["estimate"] as? [String: Any])
    }

    @Test func theEstimateCountsTheRequestsARunMakesAndLandsNearItsTokensOnceCalibrated() throws {
        let f = try Fixture(keywords: 12)
        defer { f.stop() }
        let ws = f.tmp.path("ws")
        let recipe = try f.recipe("recipe.yaml")
        // A pilot on 4 keywords: its cached usage is the calibration.
        try f.run(["init", ws.path, "--keywords", try f.keywordFile(4).path, "--recipe", recipe.path, "--quiet"])
        for stage in ["collect", "filter", "describe", "mcq"] { try f.run([stage, "--workspace", ws.path, "--quiet"]) }
        // The rest of the keywords arrive; what would describe and mcq cost now?
        try f.run(["init", ws.path, "--keywords", try f.keywordFile(12).path, "--quiet"])
        for stage in ["collect", "filter"] { try f.run([stage, "--workspace", ws.path, "--quiet"]) }
        let before = try Self.cacheUsage(ws)
        let requestsBefore = f.chat.requestCount
        let estimate = try Self.estimate(f, ws)
        // Estimating sent nothing and wrote nothing.
        #expect(f.chat.requestCount == requestsBefore)
        #expect(try Self.cacheUsage(ws) == before)
        let rows = try #require(estimate["rows"] as? [[String: Any]])
        let describeRows = rows.filter { $0["stage"] as? String == "describe" }
        #expect(!describeRows.isEmpty && describeRows.allSatisfy { $0["projected"] as? Bool == false })
        #expect(rows.allSatisfy { (($0["calibration"] as? [String: Any])?["basis"] as? String ?? "none") != "none" },
                "every row is calibrated by the pilot's cache: \(rows)")
        // The `--estimate` flag of a stage gives that stage's rows.
        let flag = try #require(try f.run(["describe", "--workspace", ws.path, "--estimate", "--json"]).json()["estimate"] as? [String: Any])
        #expect(flag["requests"] as? Int == describeRows.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) })
        #expect(f.chat.requestCount == requestsBefore)

        try f.run(["describe", "--workspace", ws.path, "--quiet"])
        let describeRequests = f.chat.requestCount - requestsBefore
        try f.run(["mcq", "--workspace", ws.path, "--quiet"])
        let after = try Self.cacheUsage(ws)
        let actualRequests = f.chat.requestCount - requestsBefore
        let actualTokens = Double(after.prompt - before.prompt + after.completion - before.completion)

        print("estimate vs actual: requests \(estimate["requests"] ?? 0) vs \(actualRequests), tokens \(estimate["prompt_tokens"] ?? 0)+\(estimate["completion_tokens"] ?? 0) vs \(after.prompt - before.prompt)+\(after.completion - before.completion)")
        // Rendered requests are exact; the whole (with projected Type 2 questions) within 15 %, tokens too.
        #expect(describeRows.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) } == describeRequests)
        let estimatedRequests = Double(try #require(estimate["requests"] as? Int))
        #expect(abs(estimatedRequests - Double(actualRequests)) <= 0.15 * Double(actualRequests),
                "estimated \(estimatedRequests) requests, made \(actualRequests)")
        let estimatedTokens = Double((estimate["prompt_tokens"] as? Int ?? 0) + (estimate["completion_tokens"] as? Int ?? 0))
        #expect(abs(estimatedTokens - actualTokens) <= 0.15 * actualTokens, "estimated \(estimatedTokens) tokens, used \(actualTokens)")
        let cost = try #require(estimate["cost_usd"] as? Double)
        #expect(cost > 0)

        // Nothing is pending any more: the estimate says so.
        let done = try Self.estimate(f, ws)
        #expect(done["requests"] as? Int == 0, "\(done)")
        // Batch pricing is the recipe's share of the online price.
        let batch = try Self.estimate(f, ws, ["--stages", "describe", "--batch"])
        #expect(batch["batch"] as? Bool == true)
    }

    @Test func aBudgetStopsBeforeARequestWouldPassItAndARerunWithMoreGoesOnWhereItStopped() throws {
        let f = try Fixture(keywords: 6)
        defer { f.stop() }
        let ws = f.tmp.path("ws")
        // Each describe request may take its prompt and up to max_tokens: 2,500 tokens is a few of them.
        let tight = try f.recipe("tight.yaml", llmExtra: "  budget: {tokens: 2500}")
        try f.run(["init", ws.path, "--keywords", try f.keywordFile(6).path, "--recipe", tight.path, "--quiet"])
        for stage in ["collect", "filter"] { try f.run([stage, "--workspace", ws.path, "--quiet"]) }
        let planned = try #require(try Self.estimate(f, ws, ["--stages", "describe"])["requests"] as? Int)

        let stopped = try f.run(["describe", "--workspace", ws.path], expect: 2)
        #expect(stopped.stderr.contains("budget_exhausted") && stopped.stderr.contains("llm.budget.tokens"), "\(stopped.stderr)")
        let spent = try Self.cacheUsage(ws)
        #expect(spent.requests > 0 && spent.requests < planned, "\(spent.requests) of \(planned)")
        #expect(spent.prompt + spent.completion <= 2500)
        let queue = try DatabaseQueue(path: ws.appendingPathComponent("dsbuild.sqlite").path)
        let status = try queue.read { db in try String.fetchOne(db, sql: "SELECT status FROM runs WHERE command = 'describe' ORDER BY id DESC LIMIT 1") }
        #expect(status == "budget_exhausted")

        // The workspace already spent more than a workspace budget below it: stopped before any request.
        let requestsSoFar = f.chat.requestCount
        let workspaceCap = try f.recipe("cap.yaml", llmExtra: "  budget: {workspace_tokens: \(spent.prompt + spent.completion)}")
        try f.run(["init", ws.path, "--recipe", workspaceCap.path, "--quiet"])
        let capped = try f.run(["describe", "--workspace", ws.path], expect: 2)
        #expect(capped.stderr.contains("llm.budget.workspace_tokens"))
        #expect(f.chat.requestCount == requestsSoFar)

        // A USD budget needs a price for the model: said at once, nothing sent.
        let unpriced = try f.recipe("unpriced.yaml", llmExtra: "  budget: {usd: 5}")
        try f.run(["init", ws.path, "--recipe", unpriced.path, "--quiet"])
        let refused = try f.run(["describe", "--workspace", ws.path, "--model", "unpriced-model"], expect: 2)
        #expect(refused.stderr.contains("has no price"), "\(refused.stderr)")
        #expect(f.chat.requestCount == requestsSoFar)

        // More budget: the run goes on where it stopped and sends no request twice.
        let roomy = try f.recipe("roomy.yaml", llmExtra: "  budget: {tokens: 10000000, usd: 100}")
        try f.run(["init", ws.path, "--recipe", roomy.path, "--quiet"])
        try f.run(["describe", "--workspace", ws.path, "--quiet"])
        let bodies = f.chat.bodies.map { body in
            String(decoding: (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
        }
        #expect(Set(bodies).count == bodies.count, "a request was sent twice")
        #expect(f.chat.requestCount - requestsSoFar == planned - spent.requests)
        #expect(try Self.estimate(f, ws, ["--stages", "describe"])["requests"] as? Int == 0)
    }
}

extension CostEstimateTests {
    @Test func theFilterJudgesAreEstimatedAndKeptToTheBudgetLikeTheWriters() throws {
        let f = try Fixture(keywords: 6)
        defer { f.stop() }
        let ws = f.tmp.path("ws")
        let tight = try f.recipe("tight.yaml", llmExtra: "  budget: {tokens: 1500}")
        try f.run(["init", ws.path, "--keywords", try f.keywordFile(6).path, "--recipe", tight.path, "--quiet"])
        for stage in ["collect", "filter"] { try f.run([stage, "--workspace", ws.path, "--quiet"]) }
        let queue = try DatabaseQueue(path: ws.appendingPathComponent("dsbuild.sqlite").path)
        let kept = try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM kept_pairs")! }
        #expect(kept > 2)

        // The watermark judge would be asked about every kept pair, and nothing is sent to find out.
        let estimate = try #require(try f.run(["filter", "--workspace", ws.path, "--vlm-judge", "--estimate", "--json"]).json()["estimate"]
                                    as? [String: Any])
        let rows = try #require(estimate["rows"] as? [[String: Any]])
        #expect(rows.map { $0["purpose"] as? String } == ["watermark_judge"])
        #expect(estimate["requests"] as? Int == kept)
        #expect((estimate["image_tokens"] as? Int ?? 0) >= 255 * kept, "each request carries its image")
        #expect(f.chat.requestCount == 0)

        let stopped = try f.run(["filter", "--workspace", ws.path, "--vlm-judge"], expect: 2)
        #expect(stopped.stderr.contains("llm.budget.tokens"), "\(stopped.stderr)")
        let status = try queue.read { db in try String.fetchOne(db, sql: "SELECT status FROM runs ORDER BY id DESC LIMIT 1") }
        #expect(status == "budget_exhausted")
        let judged = f.chat.requestCount
        #expect(judged < kept)

        let roomy = try f.recipe("roomy.yaml", llmExtra: "  budget: {tokens: 10000000}")
        try f.run(["init", ws.path, "--recipe", roomy.path, "--quiet"])
        try f.run(["filter", "--workspace", ws.path, "--vlm-judge", "--quiet"])
        #expect(f.chat.requestCount == kept, "every pair judged once over both runs")
        let rerun = try #require(try f.run(["filter", "--workspace", ws.path, "--vlm-judge", "--estimate", "--json"]).json()["estimate"]
                                 as? [String: Any])
        #expect(rerun["requests"] as? Int == 0)
    }

    @Test func runEstimatesEveryPendingModelStageWithTheRecipeGiven() throws {
        let f = try Fixture(keywords: 4)
        defer { f.stop() }
        let ws = f.tmp.path("ws")
        let recipe = try f.recipe("recipe.yaml")
        try f.run(["init", ws.path, "--keywords", try f.keywordFile(4).path, "--recipe", recipe.path, "--quiet"])
        for stage in ["collect", "filter"] { try f.run([stage, "--workspace", ws.path, "--quiet"]) }
        let result = try f.run(["run", recipe.path, "--workspace", ws.path, "--estimate", "--json"])
        let estimate = try #require(try result.json()["estimate"] as? [String: Any])
        let rows = try #require(estimate["rows"] as? [[String: Any]])
        // Descriptions render now; the Type 2 questions written from them are projected from the plan.
        #expect(rows.contains { $0["stage"] as? String == "describe" && $0["projected"] as? Bool == false })
        #expect(rows.contains { $0["purpose"] as? String == "mcq.type2" && $0["projected"] as? Bool == true })
        // Without a pilot there is no calibration: completions are the requests' max_tokens, and the table says so.
        #expect(rows.allSatisfy { ($0["calibration"] as? [String: Any])?["basis"] as? String == "none" })
        #expect(rows.allSatisfy { $0["completion_basis"] as? String == "max_tokens" })
        #expect(f.chat.requestCount == 0)
        let table = try f.run(["run", recipe.path, "--workspace", ws.path, "--estimate"]).stdout
        #expect(table.contains("projected from the plan") && table.contains("total"), "\(table)")
    }
}
