import Dataset
import Foundation
import Testing
import _DSBuildTestSupport
@testable import Train

/// The launcher against the real bundled trainer (`trainer/train.py`) and a tiny random model built by
/// `trainer/make_tiny_model.py`. Opt-in: set `DSBUILD_TRAINER_PYTHON` to a Python with the trainer's
/// requirements (torch, transformers, peft); the trainer's own suite covers the training itself.
@Suite("real trainer", .enabled(if: ProcessInfo.processInfo.environment["DSBUILD_TRAINER_PYTHON"] != nil))
struct RealTrainerTests {
    @Test(arguments: ["text-only", "paired"])
    func realTrainerTrainsOnDsbuildShards(_ mode: String) async throws {
        let python = ProcessInfo.processInfo.environment["DSBUILD_TRAINER_PYTHON"]!
        let fixture = try FixtureWorkspace(images: 4, testEvery: 0)
        let (shards, _) = try await fixture.writeShards()
        let trainerDir = TestPaths.repositoryRoot.appendingPathComponent("trainer")
        let model = fixture.dir.path("tiny-model")
        let made = try runProcess([python, trainerDir.appendingPathComponent("make_tiny_model.py").path, model.path])
        try #require(made.status == 0, "make_tiny_model.py failed: \(made.stderr.suffix(2000))")
        var settings = TrainSettings(shards: shards, mode: TrainMode(mode)!, model: model.path, out: fixture.dir.path("run-\(mode)"),
                                     trainerDirectory: trainerDir)
        settings.python = python
        settings.maxSteps = 8
        settings.device = "cpu"
        settings.extraJSON = #"{"lr": 0.005, "save_steps": 4}"#
        let events = EventLog()
        var launcher = TrainLauncher(workspace: fixture.workspace, settings: settings)
        launcher.onEvent = { events.append($0) }
        let outcome: TrainOutcome
        do { outcome = try await launcher.run() } catch {
            Issue.record("trainer failed: \(error)")
            return
        }
        #expect(outcome.status == "finished")
        #expect(outcome.steps == 8)
        #expect(outcome.firstLoss.map { $0.isFinite } == true && outcome.finalLoss.map { $0.isFinite } == true)
        #expect(outcome.checkpoint.map { FileManager.default.fileExists(atPath: $0) } == true)
        #expect(events.steps == 8)
        print("real trainer \(mode): steps \(outcome.steps), loss \(outcome.firstLoss ?? .nan) → \(outcome.finalLoss ?? .nan), wall \(outcome.wallSeconds) s, peak memory \(outcome.peakMemoryBytes ?? -1) bytes, checkpoint \(outcome.checkpoint ?? "-")")
    }
}

final class EventLog: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var events: [TrainerEvent] = []
    func append(_ e: TrainerEvent) { lock.lock(); events.append(e); lock.unlock() }
    var steps: Int { lock.lock(); defer { lock.unlock() }; return events.filter { if case .step = $0 { true } else { false } }.count }
}
