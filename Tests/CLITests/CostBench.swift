import Dataset
import Foundation
import GRDB
import Synchronization
import Testing
import _DSBuildTestSupport

/// bench/cost: `dsbuild estimate` against the actual usage of the same run, through the commands, on the real
/// K-Viscuit photos. The loopback endpoint reports usage as OpenAI bills GPT-4o: text by the real o200k tokenizer
/// (a `bpe-openai` process, `DSBUILD_BENCH_TOKENIZER`), images by the documented tile rule (`ProviderUsage`).
/// Two rounds: a cold estimate on an empty cache (no calibration: completions at max_tokens), then, after that
/// pilot, a calibrated estimate for the next keywords. Runs only with DSBUILD_BENCH=1 (bench/cost/run.sh).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["DSBUILD_BENCH"] != nil))
struct CostBench {
    /// The o200k tokenizer in a Python process, one JSON string a line.
    final class Tokenizer: Sendable {
        let process = Process()
        let input = Pipe(), output = Pipe()
        let lock = Mutex(())

        init(command: String) throws {
            let parts = command.split(separator: " ").map(String.init)
            process.executableURL = URL(fileURLWithPath: parts[0])
            process.arguments = Array(parts.dropFirst())
            process.standardInput = input
            process.standardOutput = output
            try process.run()
        }

        func count(_ text: String) -> Int {
            lock.withLock { _ in
                let line = String(decoding: try! JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed]), as: UTF8.self)
                input.fileHandleForWriting.write(Data((line + "\n").utf8))
                var answer = Data()
                while true {
                    let byte = output.fileHandleForReading.readData(ofLength: 1)
                    if byte.isEmpty || byte == Data("\n".utf8) { break }
                    answer.append(byte)
                }
                return Int(String(decoding: answer, as: UTF8.self)) ?? 0
            }
        }

        deinit { process.terminate() }
    }

    struct Round {
        var byPurpose: [String: (Int, Int, Int)] = [:]
        var name: String
        var estimate: [String: Any]
        var requests: Int
        var prompt: Int
        var completion: Int
    }

    /// Requests, prompt and completion tokens per purpose of the cache entries stored after `since`.
    static func cacheByPurpose(_ ws: URL, since: Double) throws -> [String: (Int, Int, Int)] {
        let queue = try DatabaseQueue(path: ws.appendingPathComponent("dsbuild.sqlite").path)
        return try queue.read { db in
            var result: [String: (Int, Int, Int)] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT purpose, COUNT(*), SUM(prompt_tokens), SUM(completion_tokens) FROM llm_cache WHERE created_at >= ? GROUP BY purpose
                """, arguments: [since]) {
                result[row[0]] = (row[1], row[2], row[3])
            }
            return result
        }
    }

    static func cacheTotals(_ ws: URL) throws -> (Int, Int) {
        let queue = try DatabaseQueue(path: ws.appendingPathComponent("dsbuild.sqlite").path)
        return try queue.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0) FROM llm_cache")!
            return (row[0], row[1])
        }
    }

    @Test func estimateAgainstActualUsage() throws {
        let command = try #require(ProcessInfo.processInfo.environment["DSBUILD_BENCH_TOKENIZER"], "run bench/cost/run.sh")
        let tokenizer = try Tokenizer(command: command)
        let items = try KViscuitFixture.type1Items().filter {
            FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
        }
        var seen = Set<String>()
        let unique = Array(items.filter { seen.insert($0.keyword).inserted }.prefix(90))
        var files: [String: [URL]] = [:]
        for item in unique { files[item.keyword, default: []].append(TestPaths.kViscuitImages.appendingPathComponent(item.imagePath)) }
        let commons = try FakeCommonsAPI(files: files)
        let chat = FakeChatEndpoint(model: "gpt-4o", responder: PipelineChatResponder.respond, usage: { body, text in
            (ProviderUsage.promptTokens(body, tokenizer: { tokenizer.count($0) }), tokenizer.count(text))
        })
        let server = try chat.serve()
        defer { commons.stop(); server.stop() }
        let tmp = TemporaryDirectory("dsbuild-cost-bench")
        let cli = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-bench"])
        func keywordFile(_ n: Int) throws -> String {
            var csv = "keyword,category\n"
            for item in unique.prefix(n) { csv += "\"\(item.keyword.replacingOccurrences(of: "\"", with: "\"\""))\",\(item.category.lowercased())\n" }
            let url = tmp.path("keywords-\(n).csv")
            try csv.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        let recipe = tmp.path("recipe.yaml")
        try """
            name: cost-bench
            contact: https://example.org/dsbuild-bench
            llm:
              model: gpt-4o
              concurrency: 4
              image_detail: high
              prices:
                gpt-4o: {prompt: 2.5, completion: 10, cached_prompt: 1.25}
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
              aspects: [visual, cultural]
              modes: [text-only, image-grounded]
              languages: [en]
            mcq:
              types: [1, 2]
              per_keyword: 2
              test_fraction: 0.25
              seed: 7
            """.write(to: recipe, atomically: true, encoding: .utf8)
        let ws = tmp.path("ws")
        func run(_ arguments: [String]) throws -> CommandRunner.Result {
            let result = try cli.run(arguments)
            #expect(result.status == 0, "\(arguments.joined(separator: " ")): \(result.stderr)")
            return result
        }
        var rounds: [Round] = []
        for (name, keywords) in [("cold (empty cache)", 30), ("calibrated (after the first 30 keywords)", 90)] {
            _ = try run(["init", ws.path, "--keywords", try keywordFile(keywords), "--recipe", recipe.path, "--quiet"])
            for stage in ["collect", "filter"] { _ = try run([stage, "--workspace", ws.path, "--quiet"]) }
            let estimate = try #require(try run(["estimate", "--workspace", ws.path, "--json"]).json()["estimate"] as? [String: Any])
            let (prompt0, completion0) = try Self.cacheTotals(ws)
            let requests0 = chat.requestCount
            let started = Date().timeIntervalSince1970
            for stage in ["describe", "mcq"] { _ = try run([stage, "--workspace", ws.path, "--quiet"]) }
            let (prompt1, completion1) = try Self.cacheTotals(ws)
            rounds.append(Round(byPurpose: try Self.cacheByPurpose(ws, since: started), name: name, estimate: estimate, requests: chat.requestCount - requests0,
                                prompt: prompt1 - prompt0, completion: completion1 - completion0))
        }
        var text = "bench/cost — dsbuild estimate vs actual usage of the same run (K-Viscuit photos, loopback endpoint billing as GPT-4o: o200k text, tile-rule images; $2.50 / $10 per M)\n"
        for round in rounds {
            let e = round.estimate
            let ep = Double(e["prompt_tokens"] as? Int ?? 0), ec = Double(e["completion_tokens"] as? Int ?? 0)
            let er = Double(e["requests"] as? Int ?? 0)
            let actualCost = (Double(round.prompt) * 2.5 + Double(round.completion) * 10) / 1_000_000
            let estimatedCost = e["cost_usd"] as? Double ?? 0
            func ratio(_ a: Double, _ b: Double) -> String { b > 0 ? String(format: "%.3f", a / b) : "n/a" }
            text += "\n\(round.name)\n"
            text += String(format: "  requests    estimated %8.0f  actual %8d", er, round.requests) + "  ratio \(ratio(er, Double(round.requests)))\n"
            text += String(format: "  prompt      estimated %8.0f  actual %8d", ep, round.prompt) + "  ratio \(ratio(ep, Double(round.prompt)))\n"
            text += String(format: "  completion  estimated %8.0f  actual %8d", ec, round.completion) + "  ratio \(ratio(ec, Double(round.completion)))\n"
            text += String(format: "  total       estimated %8.0f  actual %8d", ep + ec, round.prompt + round.completion)
                + "  ratio \(ratio(ep + ec, Double(round.prompt + round.completion)))\n"
            for row in e["rows"] as? [[String: Any]] ?? [] {
                let purpose = row["purpose"] as? String ?? ""
                let actual = round.byPurpose[purpose] ?? (0, 0, 0)
                text += "    \(purpose)\(row["projected"] as? Bool == true ? " (projected)" : ""): requests \(row["requests"] ?? 0)/\(actual.0), "
                    + "prompt \(row["prompt_tokens"] ?? 0)/\(actual.1), completion \(row["completion_tokens"] ?? 0)/\(actual.2) "
                    + "[completion from \(row["completion_basis"] ?? "")]\n"
            }
            text += String(format: "  cost USD    estimated %8.4f  actual %8.4f", estimatedCost, actualCost) + "  ratio \(ratio(estimatedCost, actualCost))\n"
        }
        print(text)
        if let out = ProcessInfo.processInfo.environment["DSBUILD_BENCH_OUT"] {
            try? text.write(toFile: out, atomically: true, encoding: .utf8)
        }
        let calibrated = try #require(rounds.last)
        let total = Double((calibrated.estimate["prompt_tokens"] as? Int ?? 0) + (calibrated.estimate["completion_tokens"] as? Int ?? 0))
        let actual = Double(calibrated.prompt + calibrated.completion)
        #expect(abs(total - actual) <= 0.15 * actual, "the calibrated estimate is within 15 % of the run's tokens")
    }
}
