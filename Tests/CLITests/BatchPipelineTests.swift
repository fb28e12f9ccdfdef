import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

/// Issue 20, "Batch API", through the commands on real K-Viscuit images: `describe --batch` and `mcq --batch` send
/// every request through a batch of the loopback Files/Batches fake and none online, record what an online run
/// records, repeat nothing on a rerun, resume after `kill -9` without a duplicate request, resubmit only expired or
/// failed requests, and `batch status` / `batch cancel` show and stop what is in flight.
@Suite(.serialized) struct BatchPipelineTests {
    static let secret = "sk-batch-pipeline-0123456789"

    /// A workspace over a Commons fake serving K-Viscuit images, with its own model endpoint (online and batch).
    struct Fixture {
        let tmp = TemporaryDirectory("dsbuild-batch")
        let commons: FakeCommonsAPI
        let api: FakeBatchAPI
        let server: LoopbackHTTPServer
        let cli: CommandRunner
        let workspace: URL

        /// `judges`: the relevance judge, the faithfulness and answer-key verifiers and the blind check are on, answered
        /// by a `PerfectVerifier` that knows what each photo shows.
        /// `llm`: more `llm:` settings, one `key: value` a line.
        init(keywords: Int = 4, judges: Bool = false, llm: [String] = []) throws {
            let items = try KViscuitFixture.type1Items().filter {
                FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
            }
            var seen = Set<String>()
            let unique = items.filter { seen.insert($0.keyword).inserted }
            let chosen = Array(unique.prefix(keywords))
            var files: [String: [URL]] = [:]
            for (i, item) in chosen.enumerated() {
                files[item.keyword] = [TestPaths.kViscuitImages.appendingPathComponent(item.imagePath),
                                       TestPaths.kViscuitImages.appendingPathComponent(unique[i + 40].imagePath)]
            }
            commons = try FakeCommonsAPI(files: files)
            if judges {
                let verifier = try PerfectVerifier(truth: files.flatMap { keyword, urls in try urls.map { (try Data(contentsOf: $0), keyword) } })
                api = FakeBatchAPI(chat: FakeChatEndpoint { body in verifier.answer(body) ?? PipelineChatResponder.respond(body) })
            } else {
                api = FakeBatchAPI(chat: FakeChatEndpoint(responder: PipelineChatResponder.respond))
            }
            server = try api.serve()
            var csv = "keyword,category\n"
            for item in chosen { csv += "\"\(item.keyword.replacingOccurrences(of: "\"", with: "\"\""))\",\(item.category.lowercased())\n" }
            try csv.write(to: tmp.path("keywords.csv"), atomically: true, encoding: .utf8)
            try """
                name: batch
                keywords: keywords.csv
                llm:
                  model: fake-model
                  concurrency: 3
                  batch_poll_seconds: 0.05
                  batch_poll_max_seconds: 0.2
                \(llm.map { "  \($0)\n" }.joined())
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
                  relevance:
                    enabled: \(judges)
                describe:
                  aspects: [visual]
                  modes: [text-only, image-grounded]
                  languages: [en]
                  verify: \(judges)
                mcq:
                  test_fraction: 0.25
                  seed: 7
                  verify: \(judges)
                  blind_check: \(judges)
                shards:
                  out: shards
                """.write(to: tmp.path("recipe.yaml"), atomically: true, encoding: .utf8)
            cli = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": BatchPipelineTests.secret])
            workspace = tmp.path("ws")
        }

        func stop() { commons.stop(); server.stop() }

        /// init → collect → filter (model requests only with the relevance judge; `batch`: through the Batch API).
        func prepare(batch: Bool = false) throws {
            #expect(try cli.run(["init", workspace.path, "--recipe", tmp.path("recipe.yaml").path, "--quiet"]).status == 0)
            try run(["collect"])
            try run(["filter"] + (batch ? ["--batch"] : []))
        }

        @discardableResult
        func run(_ arguments: [String], allowing statuses: Set<Int32> = [0], environment: [String: String] = [:]) throws -> CommandRunner.Result {
            var runner = cli
            runner.environment.merge(environment) { _, b in b }
            let result = try runner.run(arguments + ["--workspace", workspace.path, "--quiet"])
            #expect(statuses.contains(result.status), "\(arguments.joined(separator: " ")): \(result.status) \(result.stderr)")
            return result
        }

        func rows(_ sql: String) throws -> [[String]] { try Hardening.rows(workspace, sql) }

        /// What the stages recorded, in a fixed order (no ids or times).
        func recorded() throws -> [[String]] {
            try rows("""
                SELECT 'd', k.text, d.aspect, d.mode, d.image_sha256, d.variant, d.status, COALESCE(d.text, ''), COALESCE(d.request_key, ''),
                       d.prompt_tokens, d.completion_tokens
                FROM descriptions d JOIN keywords k ON k.id = d.keyword_id ORDER BY 2, 3, 4, 5, 6
                """) + rows("SELECT 'q', id, type, question, options, answer, status, COALESCE(split, ''), COALESCE(leaky, '') FROM questions ORDER BY id")
                + rows("SELECT 'f', keyword_id, image_sha256, rule, pass, value, reason FROM filter_decisions ORDER BY 2, 3, 4")
                + rows("SELECT 'j', judge, subject, verdict, COALESCE(answer, ''), COALESCE(request_key, '') FROM judgements ORDER BY 2, 3")
        }

        func batchStatus() throws -> [String: Any] {
            try cli.run(["batch", "status", "--json", "--workspace", workspace.path]).json()
        }
    }

    @Test func describeAndMCQInBatchModeSendEveryRequestThroughABatchAndRecordWhatOnlineRecords() throws {
        // The same pipeline online, against the same fake, is the reference.
        let online = try Fixture()
        defer { online.stop() }
        try online.prepare()
        try online.run(["describe"])
        try online.run(["mcq"])
        #expect(online.api.online.values.reduce(0, +) > 0 && online.api.creates == 0)

        let f = try Fixture()
        defer { f.stop() }
        try f.prepare()
        try f.run(["describe", "--batch"])
        try f.run(["mcq", "--batch"])
        try f.run(["shards"])
        #expect(f.api.online.isEmpty, "no request went online: \(f.api.online.count)")
        let batched = f.api.batched
        #expect(!batched.isEmpty && batched.values.allSatisfy { $0 == 1 }, "each request answered by exactly one batch")
        #expect(Set(batched.keys) == Set(online.api.online.keys), "the batch requests are the online requests, byte for byte")
        #expect(try f.recorded() == online.recorded(), "the stages record what an online run records")
        let shards = try FileManager.default.contentsOfDirectory(atPath: f.workspace.appendingPathComponent("shards").path)
        #expect(!shards.isEmpty)

        // A rerun asks nothing: no upload, no batch, no online request.
        let (uploads, creates) = (f.api.uploads, f.api.creates)
        try f.run(["describe", "--batch"])
        try f.run(["mcq", "--batch"])
        #expect(f.api.uploads == uploads && f.api.creates == creates && f.api.online.isEmpty)

        let status = try f.batchStatus()
        let batches = try #require(status["batches"] as? [[String: Any]])
        #expect(batches.count == creates && status["in_flight"] as? Int == 0)
        #expect(batches.allSatisfy { $0["status"] as? String == "completed" && $0["batch_id"] is String && $0["request_count"] is Int })
        #expect((status["requests"] as? [String: Int])?["succeeded"] == batched.count)
        let table = try f.cli.run(["batch", "status", "--workspace", f.workspace.path]).stdout
        #expect(table.contains("completed") && table.contains("\(creates) batches, 0 in flight"), "\(table)")
        let stored = try f.rows("SELECT COUNT(*) FROM llm_batches WHERE batch_id IS NULL OR merged_at IS NULL")
        #expect(stored.first?.first == "0")
        // The key is in no batch row, no request row and no log.
        #expect(try f.rows("SELECT * FROM llm_batches").flatMap { $0 }.allSatisfy { !$0.contains(BatchPipelineTests.secret) })
        #expect(f.api.authorizations == ["Bearer \(BatchPipelineTests.secret)"])
        print("figures: \(batched.count) requests, \(creates) batches, \(f.api.polls) polls, 0 online")
    }

    @Test func withEveryJudgeOnTheBatchPathTakesSeveralRoundsAndStillRecordsWhatOnlineRecords() throws {
        let online = try Fixture(judges: true)
        defer { online.stop() }
        try online.prepare()
        try online.run(["describe"])
        try online.run(["mcq"])

        let f = try Fixture(judges: true)
        defer { f.stop() }
        try f.prepare(batch: true)
        let describe = try f.cli.run(["describe", "--batch", "--json", "--workspace", f.workspace.path]).json()
        let report = try #require(describe["batch"] as? [String: Any])
        #expect((report["passes"] as? Int ?? 0) >= 3, "write, then verify, then text-only against the verified: \(report)")
        try f.run(["mcq", "--batch"])
        try f.run(["shards"])
        #expect(f.api.online.isEmpty && f.api.batched.values.allSatisfy { $0 == 1 })
        #expect(Set(f.api.batched.keys) == Set(online.api.online.keys))
        let judged = try f.rows("SELECT judge, COUNT(*) FROM judgements GROUP BY judge ORDER BY judge").map { $0[0] }
        #expect(judged == ["answer_key", "faithfulness"], "both verifiers judged: \(judged)")
        #expect(try f.rows("SELECT COUNT(*) FROM filter_decisions WHERE rule = 'relevance'").first?.first != "0")
        #expect(try f.recorded() == online.recorded())
        print("figures (judges): \(f.api.batched.count) requests, \(f.api.creates) batches, \(f.api.polls) polls, 0 online, describe passes \(report["passes"] ?? 0)")
    }

    @Test(arguments: ["polled:2", "uploaded:1", "created:1", "staged:1"])
    func aKilledBatchRunResumesWithoutADuplicateRequest(stop: String) throws {
        let f = try Fixture(keywords: 3)
        defer { f.stop() }
        try f.prepare()
        let killed = try f.run(["describe", "--batch"], allowing: [137, -9, 9], environment: ["DSBUILD_TEST_BATCH_STOP": stop])
        #expect(killed.signalled || killed.status == 9, "killed at \(stop)")
        try f.run(["describe", "--batch"])
        #expect(f.api.creates == 1 && f.api.uploads == 1,
                "one upload and one batch over the kill at \(stop): \(f.api.uploads) uploads, \(f.api.creates) batches")
        #expect(f.api.online.isEmpty)
        #expect(f.api.batched.values.allSatisfy { $0 == 1 }, "no request answered twice over the kill at \(stop)")
        let keys = f.api.batchKeys.flatMap { $0 }
        #expect(keys.count == Set(keys).count, "no request submitted in two batches (kill at \(stop)): \(f.api.batchSizes)")
        #expect(try f.batchStatus()["in_flight"] as? Int == 0)
        try f.run(["mcq", "--batch"])
        print("figures (\(stop)): \(f.api.batched.count) requests, \(f.api.creates) batches, \(f.api.polls) polls, duplicates 0")
    }

    @Test func runWithBatchSendsEveryStagesRequestsThroughBatches() throws {
        let f = try Fixture(keywords: 3, judges: true)
        defer { f.stop() }
        let result = try f.cli.run(["run", f.tmp.path("recipe.yaml").path, "--batch", "--until", "shards", "--workspace", f.workspace.path, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(f.api.online.isEmpty && f.api.creates > 0 && f.api.batched.values.allSatisfy { $0 == 1 })
        #expect(try f.rows("SELECT COUNT(*) FROM filter_decisions WHERE rule = 'relevance'").first?.first != "0", "the filter's judge went through a batch")
        #expect(try f.rows("SELECT COUNT(*) FROM questions WHERE type = 2 AND status = 'accepted'").first?.first != "0")
    }

    @Test func aRefusedKeyStopsTheStageWithExitTwoAndSubmitsNothing() throws {
        let f = try Fixture(keywords: 2)
        defer { f.stop() }
        try f.prepare()
        f.api.require(key: "sk-another-key-000000000")
        let result = try f.run(["describe", "--batch"], allowing: [2])
        #expect(result.stderr.contains("authentication") && !result.stderr.contains(BatchPipelineTests.secret), "\(result.stderr)")
        #expect(f.api.uploads == 0 && f.api.creates == 0 && f.api.online.isEmpty)
        #expect(try f.rows("SELECT COUNT(*) FROM descriptions").first?.first == "0")
    }

    @Test func killsAtRandomPointsNeverMakeADuplicateRequest() throws {
        let f = try Fixture(keywords: 3)
        defer { f.stop() }
        try f.prepare()
        var generator = SeededGenerator(seed: UInt64(Date().timeIntervalSince1970))
        var kills: [Double] = []
        var finished = false
        for _ in 0..<12 where !finished {
            let running = try f.cli.start(["describe", "--batch", "--workspace", f.workspace.path, "--quiet"])
            let delay = Double.random(in: 0.05...0.5, using: &generator)
            Thread.sleep(forTimeInterval: delay)
            if running.process.isRunning {
                running.kill()
                kills.append(delay)
            }
            let result = running.wait()
            finished = result.status == 0 && !result.signalled
        }
        if !finished { try f.run(["describe", "--batch"]) }
        let keys = f.api.batchKeys.flatMap { $0 }
        #expect(keys.count == Set(keys).count, "no request in two batches over \(kills.count) kills: \(f.api.batchSizes)")
        #expect(f.api.batched.values.allSatisfy { $0 == 1 } && f.api.online.isEmpty)
        #expect(try f.rows("SELECT COUNT(*) FROM descriptions WHERE status = 'accepted'").first?.first == String(f.api.batched.count))
        print("figures (random kills at \(kills.map { String(format: "%.2f s", $0) })): \(f.api.batched.count) requests, \(f.api.creates) batches, \(f.api.uploads) uploads, \(f.api.polls) polls, duplicates \(keys.count - Set(keys).count)")
    }

    @Test func aKillBetweenCreatingABatchAndRecordingItAdoptsThatBatch() throws {
        let f = try Fixture(keywords: 3)
        defer { f.stop() }
        try f.prepare()
        f.api.delayCreate(seconds: 30)
        var runner = f.cli
        runner.environment["DSBUILD_TEST_BATCH_STOP"] = nil
        let running = try runner.start(["describe", "--batch", "--workspace", f.workspace.path, "--quiet"])
        let deadline = Date().addingTimeInterval(60)
        while f.api.creates == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        running.kill()
        _ = running.wait()
        #expect(f.api.creates == 1, "the batch exists at the provider, its creation reply never arrived")
        f.api.delayCreate(seconds: 0)
        try f.run(["describe", "--batch"])
        let first = try #require(f.api.batchKeys.first)
        #expect(f.api.batchKeys.dropFirst().allSatisfy { Set($0).isDisjoint(with: first) }, "the adopted batch's requests were not submitted again")
        #expect(f.api.batched.values.allSatisfy { $0 == 1 } && f.api.online.isEmpty)
    }

    @Test func expiredAndFailedRequestsAreResubmittedAloneAndSucceededOnesNever() throws {
        // Expired, failed and failed again are three attempts: one more is allowed so the fourth batch runs.
        let f = try Fixture(keywords: 3, llm: ["batch_max_attempts: 4"])
        defer { f.stop() }
        try f.prepare()
        f.api.script(.expire(completing: 2), .partialErrors(every: 2), .fail)
        try f.run(["describe", "--batch"])
        let batches = f.api.batchKeys
        try #require(batches.count == 4, "expired, partial errors, failed, then the rest: \(f.api.batchSizes)")
        let first = batches[0]
        #expect(first.count >= 6)
        #expect(Set(batches[1]) == Set(first.dropFirst(2)), "only the expired requests are submitted again")
        #expect(batches[2].count == batches[1].count / 2, "only the errored half of the second batch is submitted again")
        #expect(Set(batches[3]) == Set(batches[2]), "a failed batch's requests are submitted again")
        #expect(f.api.batched.values.allSatisfy { $0 == 1 }, "a succeeded request is never submitted again")
        #expect(Set(f.api.batched.keys) == Set(first), "every request answered in the end")
        #expect(try f.rows("SELECT COUNT(*) FROM descriptions WHERE status = 'accepted'").first?.first == String(first.count))
        let states = try #require(try f.batchStatus()["requests"] as? [String: Int])
        #expect(states["expired"] == first.count - 2 && states["succeeded"] == first.count && (states["failed"] ?? 0) > 0)
    }

    @Test func batchCancelCancelsWhatIsInFlightAndItsRequestsArePendingAgain() throws {
        let f = try Fixture(keywords: 3)
        defer { f.stop() }
        try f.prepare()
        f.api.script(.stall)
        // Ctrl-C while polling: the command stops (130) and the batch stays in the manifest, in flight.
        let running = try f.cli.start(["describe", "--batch", "--modes", "text-only", "--workspace", f.workspace.path, "--quiet"])
        let deadline = Date().addingTimeInterval(60)
        while f.api.polls < 3 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        running.process.interrupt()
        let interrupted = running.wait()
        #expect(interrupted.status == 130, "\(interrupted.stderr)")
        #expect(interrupted.stderr.contains("stay submitted"), "\(interrupted.stderr)")
        let before = try f.batchStatus()
        #expect(before["in_flight"] as? Int == 1)
        let cancel = try f.cli.run(["batch", "cancel", "--json", "--workspace", f.workspace.path])
        #expect(cancel.status == 0, "\(cancel.stderr)")
        #expect(f.api.cancels == 1 && f.api.batchStatuses.values.contains("cancelled"))
        let after = try f.batchStatus()
        let requests = try #require(after["requests"] as? [String: Int])
        #expect(after["in_flight"] as? Int == 0 && requests["cancelled"] == f.api.batchSizes.first)
        #expect(try f.rows("SELECT COUNT(*) FROM descriptions").first?.first == "0", "nothing recorded for cancelled requests")
        // Pending again: the next run submits them in a new batch and records them.
        try f.run(["describe", "--batch", "--modes", "text-only"])
        #expect(Set(f.api.batchKeys[1]) == Set(f.api.batchKeys[0]))
        #expect(try f.rows("SELECT COUNT(*) FROM descriptions WHERE status = 'accepted'").first?.first == String(f.api.batchSizes[0]))
        #expect(f.api.online.isEmpty)
    }
}
