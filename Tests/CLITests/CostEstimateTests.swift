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

        init(keywords count: Int, latency: Double = 0,
             responder: (@Sendable ([String: Any]) -> FakeChatEndpoint.Behaviour)? = nil) throws {
            let items = try KViscuitFixture.type1Items().filter {
                FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
            }
            var seen = Set<String>()
            let unique = Array(items.filter { seen.insert($0.keyword).inserted }.prefix(count))
            var files: [String: [URL]] = [:]
            for item in unique { files[item.keyword] = [TestPaths.kViscuitImages.appendingPathComponent(item.imagePath)] }
            commons = try FakeCommonsAPI(files: files)
            chat = FakeChatEndpoint(latency: latency, responder: responder ?? PipelineChatResponder.respond, usage: { body, text in
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

/// What the adversarial pass found, through the commands: a token budget with requests in flight, replies whose usage
/// is missing or nonsense, billed replies that are no answer, incomplete prices, and the estimate's reading only.
extension CostEstimateTests {
    /// The pipeline's answer with `usage` replaced by `usage` (raw JSON, or nil for none) and, with `emptyChoices`, no
    /// answer at all (a content-filtered reply that is still billed).
    static func replying(usage: String?, emptyChoices: Bool = false) -> @Sendable ([String: Any]) -> FakeChatEndpoint.Behaviour {
        { body in
            guard case .content(let text, let finish) = PipelineChatResponder.respond(body) else { return PipelineChatResponder.respond(body) }
            let choices: [[String: Any]] = emptyChoices ? [] : [["index": 0, "message": ["role": "assistant", "content": text], "finish_reason": finish]]
            let object: [String: Any] = ["id": "chatcmpl-x", "object": "chat.completion", "model": "fake-model", "choices": choices]
            var json = String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
            if let usage { json = String(json.dropLast()) + ", \"usage\": \(usage)}" }
            return .raw(status: 200, contentType: "application/json", body: json)
        }
    }

    /// Every row of every table of the manifest, as text.
    static func contents(_ ws: URL) throws -> [String] {
        let queue = try DatabaseQueue(path: ws.appendingPathComponent("dsbuild.sqlite").path)
        return try queue.read { db in
            var lines: [String] = []
            for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") {
                lines += try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"").map { "\(table): \($0.description)" }.sorted()
            }
            return lines
        }
    }

    static func bodiesAreUnique(_ chat: FakeChatEndpoint) -> Bool {
        let bodies = chat.bodies.map { String(decoding: (try? JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys])) ?? Data(), as: UTF8.self) }
        return Set(bodies).count == bodies.count
    }

    @Test func withEightRequestsInFlightATightBudgetStillMakesProgressAndLosesNoPaidReply() throws {
        let f = try Fixture(keywords: 12, latency: 0.2)
        defer { f.stop() }
        let ws = f.tmp.path("ws")
        let tight = try f.recipe("tight.yaml", llmExtra: "  budget: {tokens: 5000}")
        try f.run(["init", ws.path, "--keywords", try f.keywordFile(12).path, "--recipe", tight.path, "--quiet"])
        for stage in ["collect", "filter"] { try f.run([stage, "--workspace", ws.path, "--quiet"]) }
        let planned = try #require(try Self.estimate(f, ws, ["--stages", "describe"])["requests"] as? Int)
        let stopped = try f.run(["describe", "--workspace", ws.path, "--concurrency", "8"], expect: 2)
        #expect(!stopped.stderr.contains("could not store"), "\(stopped.stderr)")
        let spent = try Self.cacheUsage(ws)
        // Every reply the endpoint sent is in the cache, the limit held, and real progress was made.
        #expect(spent.requests == f.chat.requestCount)
        #expect(spent.prompt + spent.completion <= 5000)
        #expect(spent.requests >= 3, "\(spent.requests) of \(planned) written before the stop")
        let roomy = try f.recipe("roomy.yaml")
        try f.run(["init", ws.path, "--recipe", roomy.path, "--quiet"])
        try f.run(["describe", "--workspace", ws.path, "--concurrency", "8", "--quiet"])
        #expect(Self.bodiesAreUnique(f.chat), "a paid request was sent twice")
        #expect(f.chat.requestCount == planned)
    }

    @Test(arguments: ["{}", #"{"prompt_tokens": -1000000, "completion_tokens": -5000}"#, #"{"prompt_tokens": "12", "completion_tokens": 3.5}"#])
    func aReplyWhoseUsageIsMissingOrNonsenseCountsAtItsWorstCase(_ usage: String) throws {
        let f = try Fixture(keywords: 6, responder: Self.replying(usage: usage))
        defer { f.stop() }
        let ws = f.tmp.path("ws")
        let tight = try f.recipe("tight.yaml", llmExtra: "  budget: {tokens: 3000}")
        try f.run(["init", ws.path, "--keywords", try f.keywordFile(6).path, "--recipe", tight.path, "--quiet"])
        for stage in ["collect", "filter"] { try f.run([stage, "--workspace", ws.path, "--quiet"]) }
        let planned = try #require(try Self.estimate(f, ws, ["--stages", "describe"])["requests"] as? Int)
        _ = try f.run(["describe", "--workspace", ws.path], expect: 2)
        #expect(f.chat.requestCount < planned, "the budget stopped the stage")
        // What the cache holds is what the budget counted: never negative, so a later workspace limit sees it.
        let spent = try Self.cacheUsage(ws)
        #expect(spent.prompt >= 0 && spent.completion > 0 && spent.prompt + spent.completion <= 3000)
        let workspaceCap = try f.recipe("cap.yaml", llmExtra: "  budget: {workspace_tokens: \(spent.prompt + spent.completion + 1)}")
        try f.run(["init", ws.path, "--recipe", workspaceCap.path, "--quiet"])
        let before = f.chat.requestCount
        _ = try f.run(["describe", "--workspace", ws.path], expect: 2)
        #expect(f.chat.requestCount == before)
    }

    @Test func billedRepliesWithoutAnAnswerCountAgainstTheBudget() throws {
        let f = try Fixture(keywords: 4, responder: Self.replying(usage: #"{"prompt_tokens": 400, "completion_tokens": 0}"#, emptyChoices: true))
        defer { f.stop() }
        let ws = f.tmp.path("ws")
        let tight = try f.recipe("tight.yaml", llmExtra: "  max_attempts: 6\n  budget: {tokens: 3000}")
        try f.run(["init", ws.path, "--keywords", try f.keywordFile(4).path, "--recipe", tight.path, "--quiet"])
        for stage in ["collect", "filter"] { try f.run([stage, "--workspace", ws.path, "--quiet"]) }
        let stopped = try f.run(["describe", "--workspace", ws.path], expect: 2)
        #expect(stopped.stderr.contains("llm.budget.tokens"), "\(stopped.stderr)")
        // Each empty reply billed 400 prompt tokens: no more than 3000 of them were let through.
        #expect(f.chat.requestCount * 400 <= 3000, "\(f.chat.requestCount) billed replies")
    }

    @Test func aPriceWithoutItsCompletionOrPromptIsRefusedInTheRecipe() throws {
        let f = try Fixture(keywords: 1)
        defer { f.stop() }
        for partial in ["{}", "{prompt: 2.5}", "{completion: 10}"] {
            let recipe = f.tmp.path("partial.yaml")
            try "name: p\nllm:\n  prices:\n    fake-model: \(partial)\n".write(to: recipe, atomically: true, encoding: .utf8)
            let refused = try f.cli.run(["recipe", recipe.path])
            #expect(refused.status != 0 && refused.stderr.contains("llm.prices"), "\(partial): \(refused.stderr)")
        }
    }

    @Test func theEstimateReadsOnlyWhileAnotherCommandRunsAndCountsQuestionsBeforeTheirSplit() throws {
        let f = try Fixture(keywords: 6, latency: 0.3)
        defer { f.stop() }
        let ws = f.tmp.path("ws")
        try f.run(["init", ws.path, "--keywords", try f.keywordFile(6).path, "--recipe", try f.recipe("recipe.yaml").path, "--quiet"])
        for stage in ["collect", "filter"] { try f.run([stage, "--workspace", ws.path, "--quiet"]) }
        // Nothing the manifest holds changes (SQLite may still fold its write-ahead log into the file on close).
        let before = try Self.contents(ws)
        _ = try Self.estimate(f, ws)
        #expect(try Self.contents(ws) == before, "the estimate changed the manifest")
        // While describe holds the workspace, every form of the estimate still answers.
        let describe = try f.cli.start(["describe", "--workspace", ws.path, "--quiet"])
        Thread.sleep(forTimeInterval: 1.0)
        for arguments in [["estimate"], ["describe", "--estimate"], ["mcq", "--estimate"], ["filter", "--estimate"]] {
            let result = try f.cli.run(arguments + ["--workspace", ws.path, "--json"])
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
        #expect(describe.wait().status == 0)
        // Descriptions written, no split drawn yet: the Type 2 questions are projected, about as many as mcq writes.
        let estimate = try Self.estimate(f, ws, ["--stages", "mcq"])
        let projected = (estimate["rows"] as? [[String: Any]] ?? []).filter { $0["purpose"] as? String == "mcq.type2" }
        let count = projected.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) }
        let requests = f.chat.requestCount
        try f.run(["mcq", "--workspace", ws.path, "--quiet"])
        let written = f.chat.requestCount - requests
        #expect(count > 0 && abs(count - written) <= max(1, written / 5), "projected \(count), written \(written)")
    }
}
