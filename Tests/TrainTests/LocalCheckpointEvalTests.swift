import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

/// `dsbuild eval --checkpoint` without a server: the bundled trainer's eval_mcq.py scores a tiny local model of
/// each of the paper's families (Qwen2-VL, LLaVA-NeXT).
/// Opt-in like the real-trainer test: `DSBUILD_TRAINER_PYTHON` names a Python with the trainer's requirements.
@Suite("local checkpoint eval", .enabled(if: ProcessInfo.processInfo.environment["DSBUILD_TRAINER_PYTHON"] != nil))
struct LocalCheckpointEvalTests {
    @Test(arguments: ["qwen2-vl", "llava-next"])
    func aLocalCheckpointIsScoredAndAMissingImageIsReportedWithoutStoppingTheRest(_ family: String) throws {
        let python = ProcessInfo.processInfo.environment["DSBUILD_TRAINER_PYTHON"]!
        let tmp = TemporaryDirectory("local-eval-\(family)")
        let make = Process()
        make.executableURL = URL(fileURLWithPath: python)
        make.arguments = [TestPaths.repositoryRoot.appendingPathComponent("trainer/make_tiny_model.py").path, tmp.path("tiny").path,
                          "--family", family]
        make.standardOutput = FileHandle.nullDevice
        make.standardError = FileHandle.nullDevice
        try make.run()
        make.waitUntilExit()
        #expect(make.terminationStatus == 0)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: tmp.path("tiny/config.json"))) as? [String: Any]
        #expect(config?["model_type"] as? String == (family == "llava-next" ? "llava_next" : "qwen2_vl"))

        // The first K-Viscuit questions: 0.jpg is one of the five images the dataset lacks.
        let lines = try String(contentsOf: TestPaths.kViscuitAnnotations, encoding: .utf8).split(separator: "\n").prefix(8)
        try (lines.joined(separator: "\n") + "\n").write(to: tmp.path("q.jsonl"), atomically: true, encoding: .utf8)
        let missing = lines.filter { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let p = o["image_path"] as? String else { return false }
            return !FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent(p).path)
        }.count
        #expect(missing > 0)

        let cli = CommandRunner()
        let result = try cli.run(["eval", "--questions", tmp.path("q.jsonl").path, "--images", TestPaths.kViscuitImages.path,
                                  "--checkpoint", tmp.path("tiny").path, "--model", "tiny", "--python", python,
                                  "--condition", "with-image", "--json"])
        #expect(result.status == 1, "missing images make the exit status non-zero: \(result.stderr)")
        #expect(result.stderr.contains("0.jpg"))
        let json = try result.json()
        let overall = try #require(json["overall"] as? [String: Any])
        #expect(overall["n"] as? Int == lines.count)
        #expect(json["errors"] as? Int == missing)
        let accuracy = try #require(overall["accuracy"] as? Double)
        #expect((0...1).contains(accuracy))

        let noImage = try cli.run(["eval", "--questions", tmp.path("q.jsonl").path, "--checkpoint", tmp.path("tiny").path,
                                   "--model", "tiny", "--python", python, "--condition", "no-image", "--json"])
        #expect(noImage.status == 0, "\(noImage.stderr)")
        #expect(try noImage.json()["errors"] as? Int == 0)
    }
}
