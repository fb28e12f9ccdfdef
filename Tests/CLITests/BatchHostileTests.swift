import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

/// The adversarial report on the Batch API path, through the commands: each hostile behaviour of the endpoint
/// (`FakeBatchAPI.Hostile`) and each mix of online and batch runs that broke it, with what must hold instead.
@Suite(.serialized) struct BatchHostileTests {
    typealias Fixture = BatchPipelineTests.Fixture

    /// Ctrl-C on `describe --batch` while its batch stalls: the batch stays in flight.
    static func interruptedWhilePolling(_ f: Fixture, modes: String = "text-only") throws {
        let running = try f.cli.start(["describe", "--batch", "--modes", modes, "--workspace", f.workspace.path, "--quiet"])
        let deadline = Date().addingTimeInterval(60)
        while f.api.polls < 3 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        running.process.interrupt()
        #expect(running.wait().status == 130)
        #expect(try f.batchStatus()["in_flight"] as? Int ?? 0 > 0)
    }

    // B1
    @Test func anOnlineRunNeverSendsWhatABatchInFlightHolds() throws {
        let f = try Fixture(keywords: 3)
        defer { f.stop() }
        try f.prepare()
        f.api.script(.stall)
        try Self.interruptedWhilePolling(f)
        let held = Set(f.api.batchKeys.flatMap { $0 })
        // The estimate leaves those requests out (they are submitted already) and says so.
        let estimate = try f.cli.run(["estimate", "--stages", "describe", "--batch", "--json", "--workspace", f.workspace.path])
        let notes = ((try estimate.json()["estimate"] as? [String: Any])?["notes"] as? [String]) ?? []
        #expect(notes.contains { $0.contains("\(held.count) request(s) held by batches in flight") }, "\(notes) \(estimate.stderr)")
        #expect(!estimate.stderr.contains("is in batch"), "the estimate says it once, in its note: \(estimate.stderr)")
        let online = try f.run(["describe", "--modes", "text-only"], allowing: [0, 1])
        #expect(f.api.online.keys.filter { held.contains($0) }.isEmpty, "no request a batch holds went online: \(f.api.online.count)")
        #expect(online.stderr.contains("in flight") && online.stderr.contains("batch cancel"), "\(online.stderr)")
        #expect(try f.rows("SELECT COUNT(*) FROM descriptions").first?.first == "0", "the items stay pending")
        // Cancelled, the requests are pending again and the online run sends them once.
        #expect(try f.cli.run(["batch", "cancel", "--workspace", f.workspace.path, "--quiet"]).status == 0)
        try f.run(["describe", "--modes", "text-only"])
        #expect(f.api.online.values.allSatisfy { $0 == 1 } && Set(f.api.online.keys) == held)
    }

    // B4
    @Test func aResultFileThatCannotBeDownloadedNeverWedgesTheWorkspace() throws {
        let f = try Fixture(keywords: 2)
        defer { f.stop() }
        try f.prepare()
        f.api.hostile { $0.resultFiles404 = true }
        let first = try f.run(["describe", "--batch"], allowing: [0, 1])
        #expect(first.stderr.contains("could not be downloaded"), "\(first.stderr)")
        #expect(try f.batchStatus()["in_flight"] as? Int == 0, "the batch was dealt with, not left in flight")
        f.api.hostile { $0.resultFiles404 = false }
        #expect(try f.cli.run(["batch", "cancel", "--workspace", f.workspace.path, "--quiet"]).status == 0)
        // A new command tries again (exhaustion held for the first one only) and answers every request.
        try f.run(["describe", "--batch"])
        #expect(try f.rows("SELECT COUNT(*) FROM descriptions WHERE status = 'accepted'").first?.first == String(f.api.batchKeys[0].count))
        try f.run(["mcq", "--batch"])
    }

    // B5, B8
    @Test func aRefusedCreateAbandonsItsUploadAndCancelNeverCreates() throws {
        let f = try Fixture(keywords: 2)
        defer { f.stop() }
        try f.prepare()
        f.api.hostile { $0.refuseCreate = 100 }
        let refused = try f.run(["describe", "--batch"], allowing: [0, 1])
        #expect(refused.stderr.contains("refused to create a batch") && refused.stderr.contains("invalid file"), "\(refused.stderr)")
        #expect(try f.batchStatus()["in_flight"] as? Int == 0)
        #expect(try f.cli.run(["batch", "cancel", "--workspace", f.workspace.path, "--quiet"]).status == 0)
        f.api.hostile { $0.refuseCreate = 0 }
        try f.run(["describe", "--batch"])
        #expect(try f.rows("SELECT COUNT(*) FROM descriptions WHERE status = 'accepted'").first?.first != "0")

        // A kill after the upload, before the create: `batch cancel` abandons the upload and creates nothing.
        let g = try Fixture(keywords: 2)
        defer { g.stop() }
        try g.prepare()
        _ = try g.run(["describe", "--batch"], allowing: [137, -9, 9], environment: ["DSBUILD_TEST_BATCH_STOP": "uploaded:1"])
        #expect(try g.cli.run(["batch", "cancel", "--workspace", g.workspace.path, "--quiet"]).status == 0)
        #expect(g.api.creates == 0 && g.api.uploads == 1)
        #expect(try g.batchStatus()["in_flight"] as? Int == 0)
    }

    // B2
    @Test func aFewPollsAnswering404DoNotLoseTheBatch() throws {
        let f = try Fixture(keywords: 2)
        defer { f.stop() }
        try f.prepare()
        f.api.hostile { $0.poll404 = 2 }
        try f.run(["describe", "--batch"])
        let keys = f.api.batchKeys.flatMap { $0 }
        #expect(keys.count == Set(keys).count, "no request in two batches: \(f.api.batchSizes)")
        #expect(f.api.batched.values.allSatisfy { $0 == 1 })
        #expect(try f.rows("SELECT COUNT(*) FROM llm_batches WHERE status = 'lost'").first?.first == "0")
    }

    // B3
    @Test func aLostCreateIsAdoptedBehindAPageOfOtherBatches() throws {
        let f = try Fixture(keywords: 3)
        defer { f.stop() }
        try f.prepare()
        f.api.delayCreate(seconds: 30)
        let running = try f.cli.start(["describe", "--batch", "--workspace", f.workspace.path, "--quiet"])
        let deadline = Date().addingTimeInterval(60)
        while f.api.creates == 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        running.kill()
        _ = running.wait()
        f.api.delayCreate(seconds: 0)
        f.api.addForeignBatches(150)
        try f.run(["describe", "--batch"])
        let first = try #require(f.api.batchKeys.first)
        #expect(f.api.batchKeys.dropFirst().allSatisfy { Set($0).isDisjoint(with: first) }, "the adopted batch's requests were not submitted again")
        #expect(f.api.batched.values.allSatisfy { $0 == 1 })
    }

    // B7
    @Test func batchCancelGoesOnAfterARefusedCancelAndMergesTheFinishedBatch() throws {
        let f = try Fixture(keywords: 3, llm: ["batch_max_requests: 2"])
        defer { f.stop() }
        try f.prepare()
        f.api.script(.stall, .stall, .stall)
        try Self.interruptedWhilePolling(f)
        let inFlight = try f.batchStatus()["in_flight"] as? Int ?? 0
        #expect(inFlight >= 2)
        f.api.hostile { $0.cancelFinishes = true }
        let cancel = try f.cli.run(["batch", "cancel", "--workspace", f.workspace.path, "--quiet"])
        #expect(cancel.status == 0, "\(cancel.stderr)")
        let after = try f.batchStatus()["in_flight"] as? Int
        #expect(f.api.cancels == inFlight && after == 0)
        #expect(try f.rows("SELECT COUNT(*) FROM llm_batch_requests WHERE state = 'succeeded'").first?.first != "0")
    }

    // B6
    @Test func aTokenBudgetInBatchModeStillSubmitsWhatItAdmitted() throws {
        let f = try Fixture(keywords: 4, llm: ["budget: {tokens: 6000}"])
        defer { f.stop() }
        try f.prepare()
        let first = try f.run(["describe", "--batch"], allowing: [0, 1, 2])
        #expect(first.stderr.contains("budget"), "the budget stopped the run: \(first.stderr)")
        #expect(f.api.creates > 0, "the admitted requests were submitted: \(first.stderr)")
        #expect(try f.rows("SELECT COUNT(*) FROM llm_batch_requests WHERE state = 'succeeded'").first?.first != "0")
        #expect(f.api.online.isEmpty)
    }

    // B9
    @Test func aDryRunInBatchModeSendsNothingOnline() throws {
        let f = try Fixture(keywords: 2, judges: true)
        defer { f.stop() }
        #expect(try f.cli.run(["init", f.workspace.path, "--recipe", f.tmp.path("recipe.yaml").path, "--quiet"]).status == 0)
        try f.run(["collect"])
        let dry = try f.run(["filter", "--batch", "--dry-run"], allowing: [2])
        #expect(dry.stderr.contains("--dry-run") && dry.stderr.contains("batch"), "\(dry.stderr)")
        #expect(f.api.online.isEmpty && f.api.creates == 0)
    }
}
