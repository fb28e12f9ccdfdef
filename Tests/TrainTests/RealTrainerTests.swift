import Dataset
import Foundation
import Testing
import _DSBuildTestSupport
@testable import Train

/// The launcher against the real bundled trainer (`trainer/train.py`) and a tiny random model of each of the
/// paper's families (Qwen2-VL, LLaVA-NeXT) built by `trainer/make_tiny_model.py`. Opt-in: set
/// `DSBUILD_TRAINER_PYTHON` to a Python with the trainer's requirements (torch, transformers, peft); the trainer's
/// own suite covers the training itself.
@Suite("real trainer", .enabled(if: ProcessInfo.processInfo.environment["DSBUILD_TRAINER_PYTHON"] != nil))
struct RealTrainerTests {
    @Test(arguments: ["qwen2-vl", "llava-next"], ["text-only", "paired"])
    func realTrainerTrainsOnDsbuildShards(_ family: String, _ mode: String) async throws {
        let python = ProcessInfo.processInfo.environment["DSBUILD_TRAINER_PYTHON"]!
        let fixture = try FixtureWorkspace(images: 4, testEvery: 0)
        let (shards, _) = try await fixture.writeShards()
        let trainerDir = TestPaths.repositoryRoot.appendingPathComponent("trainer")
        let model = fixture.dir.path("tiny-\(family)")
        let made = try runProcess([python, trainerDir.appendingPathComponent("make_tiny_model.py").path, model.path,
                                   "--family", family])
        try #require(made.status == 0, "make_tiny_model.py failed: \(made.stderr.suffix(2000))")
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: model.appendingPathComponent("config.json"))) as? [String: Any]
        #expect(config?["model_type"] as? String == (family == "llava-next" ? "llava_next" : "qwen2_vl"))
        var settings = TrainSettings(shards: shards, mode: TrainMode(mode)!, model: model.path, out: fixture.dir.path("run-\(family)-\(mode)"),
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
        if mode == "paired", let checkpoint = outcome.checkpoint {
            try scoresTrainedCheckpoint(checkpoint, python: python, in: fixture.dir.path("eval-\(family)"))
        }
        print("real trainer \(family) \(mode): steps \(outcome.steps), loss \(outcome.firstLoss ?? .nan) → \(outcome.finalLoss ?? .nan), wall \(outcome.wallSeconds) s, peak memory \(outcome.peakMemoryBytes ?? -1) bytes, checkpoint \(outcome.checkpoint ?? "-")")
    }
}

/// `dsbuild eval --checkpoint` on what the trainer just wrote (a LoRA adapter over the tiny base): K-Viscuit
/// questions whose images exist, with the image, every one scored.
private func scoresTrainedCheckpoint(_ checkpoint: String, python: String, in dir: URL) throws {
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let lines = try String(contentsOf: TestPaths.kViscuitAnnotations, encoding: .utf8).split(separator: "\n").filter { line in
        guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let p = o["image_path"] as? String else { return false }
        return FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent(p).path)
    }.prefix(4)
    let questions = dir.appendingPathComponent("q.jsonl")
    try (lines.joined(separator: "\n") + "\n").write(to: questions, atomically: true, encoding: .utf8)
    let result = try CommandRunner().run(["eval", "--questions", questions.path, "--images", TestPaths.kViscuitImages.path,
                                          "--checkpoint", checkpoint, "--model", "tiny-trained", "--python", python,
                                          "--condition", "with-image", "--json"])
    #expect(result.status == 0, "\(result.stderr.suffix(2000))")
    let json = try result.json()
    let overall = try #require(json["overall"] as? [String: Any])
    #expect(overall["n"] as? Int == lines.count)
    #expect(json["errors"] as? Int == 0)
    #expect((overall["accuracy"] as? Double).map { (0...1).contains($0) } == true)
}

final class EventLog: @unchecked Sendable {
    // Guarded by `lock`.
    private let lock = NSLock()
    private var events: [TrainerEvent] = []
    func append(_ e: TrainerEvent) { lock.lock(); events.append(e); lock.unlock() }
    var steps: Int { lock.lock(); defer { lock.unlock() }; return events.filter { if case .step = $0 { true } else { false } }.count }
}
