import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

/// Case 9 of issue 15: Ctrl-C (SIGINT) and SIGTERM in every command. collect, filter and shards used to die
/// leaving their runs `running`, and an interrupted describe was recorded `error`. Now in-flight work finishes or
/// is abandoned (it stays pending), the run is recorded `interrupted`, and the exit status is 130.
@Suite(.serialized) struct InterruptionTests {
    static let signals: [Int32] = [SIGINT, SIGTERM]

    static let recipe = """
        llm:
          model: fake-model
        filter:
          min_short_side: 0
          aspect_ratio: [0.1, 10]
          watermark: {enabled: false}
          duplicates: {enabled: false}
          concurrency: 1
        describe:
          aspects: [visual]
          modes: [text-only]
          languages: [en]
          per_keyword: 6
          concurrency: 1
        """

    /// Sends `signal` once `ready` holds, waits for the exit, and checks the exit status and the run rows.
    func interrupt(_ command: RunningCommand, with signal: Int32, workspace: URL, stage: String,
                   ready: () -> Bool) throws -> CommandRunner.Result {
        let underWay = Hardening.waitUntil(60, ready)
        #expect(underWay, "\(stage) got under way")
        kill(command.process.processIdentifier, signal)
        let result = command.wait()
        #expect(result.status == 130, "exit 130 after \(signal): \(result.stderr)")
        #expect(!result.signalled, "handled, not killed by the signal")
        let runs = try Hardening.runs(workspace)
        #expect(!runs.contains { $0.status == "running" }, "no run left running: \(runs)")
        #expect(runs.last { $0.command == stage }?.status == "interrupted", "\(runs)")
        return result
    }

    /// A workspace with 8 real images collected from a folder and (optionally) filtered and described.
    func workspace(_ tmp: TemporaryDirectory, cli: CommandRunner, filter: Bool, describe: Bool,
                   duplicates: Bool = false) throws -> URL {
        let files = try Hardening.images(count: 8, maxBytes: 300_000)
        let source = try Hardening.directorySource(files, keyword: "hanbok", in: tmp.path("src"))
        let recipe = duplicates ? Self.recipe.replacingOccurrences(of: "duplicates: {enabled: false}", with: "duplicates: {enabled: true}") : Self.recipe
        try recipe.write(to: tmp.path("r.yaml"), atomically: true, encoding: .utf8)
        let w = tmp.path("w")
        #expect(try cli.run(["init", w.path, "--recipe", tmp.path("r.yaml").path]).status == 0)
        let collect = try cli.run(["collect", "--workspace", w.path, "--sources", "directory", "--source-file", source.path, "--quiet"])
        #expect(collect.status == 0, "\(collect.stderr)")
        if filter {
            let r = try cli.run(["filter", "--workspace", w.path, "--quiet"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        if describe {
            let r = try cli.run(["describe", "--workspace", w.path, "--quiet"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        return w
    }

    @Test(arguments: signals)
    func collectInterruptedIsRecordedInterruptedExits130AndResumes(_ signal: Int32) throws {
        let tmp = TemporaryDirectory()
        let files = try Hardening.images(count: 6, maxBytes: 200_000)
        let server = try Hardening.imageServer(files, delay: .seconds(2))
        defer { server.stop() }
        try Hardening.urlList(files, server: server, keyword: "kimchi", at: tmp.path("urls.csv"))
        let w = tmp.path("w")
        let cli = CommandRunner()
        #expect(try cli.run(["init", w.path]).status == 0)
        let arguments = ["collect", "--workspace", w.path, "--sources", "urls", "--source-file", tmp.path("urls.csv").path,
                         "--keyword-column", "keyword", "--concurrency", "1", "--per-host", "1", "--quiet",
                         "--allow-host", "127.0.0.1:\(server.port)"]
        let running = try cli.start(arguments)
        defer { running.kill() }
        _ = try interrupt(running, with: signal, workspace: w, stage: "download") {
            files.contains { server.requestCount("/img/\($0.lastPathComponent)") > 0 }
        }
        let stored = try Hardening.rows(w, "SELECT COUNT(*) FROM downloads WHERE status = 'ok'")[0][0]
        #expect(Int(stored)! < files.count, "stopped before the end")
        #expect(try Hardening.rows(w, "SELECT COUNT(*) FROM downloads WHERE status = 'failed'") == [["0"]],
                "an abandoned download is not a failure")
        let rerun = try cli.run(arguments)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try Hardening.rows(w, "SELECT COUNT(*) FROM downloads WHERE status = 'ok'") == [["\(files.count)"]])
    }

    @Test(arguments: signals)
    func filterInterruptedIsRecordedInterruptedAndExits130(_ signal: Int32) throws {
        let tmp = TemporaryDirectory()
        let cli = CommandRunner()
        let w = try workspace(tmp, cli: cli, filter: false, describe: false, duplicates: true)
        let slow = CommandRunner(environment: ["DSBUILD_TEST_FILTER_DELAY_MS": "1500"])
        let running = try slow.start(["filter", "--workspace", w.path, "--quiet"])
        defer { running.kill() }
        func count(_ sql: String) -> Int { Int((try? Hardening.rows(w, sql).first?.first) ?? "") ?? -1 }
        _ = try interrupt(running, with: signal, workspace: w, stage: "filter") {
            Hardening.isRunning(w, "filter") && count("SELECT COUNT(*) FROM filter_decisions WHERE rule != 'duplicates'") > 0
        }
        // Decided by the rules but not grouped for duplicates: not kept yet, so no later step takes them.
        #expect(count("SELECT COUNT(*) FROM filter_decisions WHERE rule != 'duplicates'") > 0)
        #expect(count("SELECT COUNT(*) FROM kept_pairs") == 0, "a pair is kept only once duplicate grouping has decided it")
        let rerun = try cli.run(["filter", "--workspace", w.path, "--json"])
        #expect(rerun.status == 0, "a rerun finishes the rest: \(rerun.stderr)")
        #expect(count("SELECT COUNT(*) FROM kept_pairs") > 0)
        #expect(count("""
            SELECT COUNT(*) FROM (SELECT 1 FROM filter_decisions GROUP BY keyword_id, image_sha256
            HAVING SUM(rule = 'duplicates' AND pass != -1) = 0)
            """) == 0, "after the rerun every pair has its duplicates decision")
    }

    @Test(arguments: signals)
    func describeInterruptedIsRecordedInterruptedNotErrorAndExits130(_ signal: Int32) throws {
        let tmp = TemporaryDirectory()
        let chat = FakeChatEndpoint(latency: 2, responder: PipelineChatResponder.respond)
        let server = try chat.serve()
        defer { server.stop() }
        let cli = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-test"])
        let w = try workspace(tmp, cli: cli, filter: true, describe: false)
        let running = try cli.start(["describe", "--workspace", w.path, "--quiet"])
        defer { running.kill() }
        _ = try interrupt(running, with: signal, workspace: w, stage: "describe") { chat.requestCount > 0 }
        #expect(chat.requestCount < 6, "stopped before the end")
    }

    /// A workspace eval is a run per condition: interrupted, its `eval.<condition>` row is `interrupted`, the
    /// questions not yet asked are not asked, and a score cut short is not stored.
    @Test(arguments: signals)
    func evalInterruptedIsRecordedInterruptedStoresNothingAndExits130(_ signal: Int32) throws {
        let tmp = TemporaryDirectory()
        let chat = FakeChatEndpoint(latency: 2) { _ in .content("A") }
        let server = try chat.serve()
        defer { server.stop() }
        let cli = CommandRunner()
        let w = tmp.path("w")
        #expect(try cli.run(["init", w.path]).status == 0)
        let lines = try String(contentsOf: TestPaths.kViscuitAnnotations, encoding: .utf8).split(separator: "\n").prefix(6)
        let file = tmp.path("questions.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        // The answers file of an earlier run is not replaced by a partial one.
        let answers = tmp.path("answers.jsonl")
        try "earlier\n".write(to: answers, atomically: true, encoding: .utf8)
        let running = try cli.start(["eval", "--workspace", w.path, "--questions", file.path, "--condition", "no-image", "--model", "m",
                                     "--endpoint", server.url("/v1").absoluteString, "--concurrency", "1", "--answers", answers.path])
        defer { running.kill() }
        let result = try interrupt(running, with: signal, workspace: w, stage: "eval.no-image") { chat.requestCount > 0 }
        #expect(chat.requestCount < 6, "stopped before the end")
        #expect(try Hardening.rows(w, "SELECT COUNT(*) FROM eval_results") == [["0"]], "a score cut short is not stored")
        #expect(try String(contentsOf: answers, encoding: .utf8) == "earlier\n")
        // No score is printed for it, and the question the signal cut off is no failure.
        #expect(result.stderr.contains("eval no-image: interrupted after"), "\(result.stderr)")
        #expect(!result.stdout.contains("overall") && !result.stderr.contains("cancelled"), "\(result.stdout)\(result.stderr)")
        let counts = try Hardening.rows(w, "SELECT counts FROM runs WHERE command = 'eval.no-image'").first?.first ?? ""
        #expect(counts.contains(#""errors":0"#) && counts.contains(#""failures":0"#), "\(counts)")
    }

    @Test(arguments: signals)
    func shardsInterruptedIsRecordedInterruptedAndExits130(_ signal: Int32) throws {
        let tmp = TemporaryDirectory()
        let chat = FakeChatEndpoint(responder: PipelineChatResponder.respond)
        let server = try chat.serve()
        defer { server.stop() }
        let cli = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-test"])
        let w = try workspace(tmp, cli: cli, filter: true, describe: true)
        let slow = CommandRunner(environment: ["DSBUILD_TEST_SHARD_DELAY_MS": "1000"])
        let running = try slow.start(["shards", "--workspace", w.path, "--quiet"])
        defer { running.kill() }
        _ = try interrupt(running, with: signal, workspace: w, stage: "shards") { Hardening.isRunning(w, "shards") }
        let rerun = try cli.run(["shards", "--workspace", w.path, "--quiet"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try Hardening.runs(w).last?.status == "ok")
    }
}
