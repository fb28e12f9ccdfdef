import Dataset
import Foundation
import Testing
import _DSBuildTestSupport
import Train

/// What `eval` scores is decided in one place: an endpoint given wins, `$OPENAI_BASE_URL` only when no checkpoint is
/// given, else the checkpoint through the bundled trainer with the Python the options and the recipe name.
@Suite struct EvalBackendTests {
    let tmp = TemporaryDirectory("dsbuild-eval-backend")

    /// A folder that `TrainerLocation` accepts as the trainer, with its own `.venv` Python.
    func trainer(withVenv: Bool) throws -> URL {
        let dir = tmp.path("trainer")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".venv/bin"), withIntermediateDirectories: true)
        try Data("# train\n".utf8).write(to: dir.appendingPathComponent("train.py"))
        if withVenv {
            let python = dir.appendingPathComponent(".venv/bin/python")
            try Data("#!/bin/sh\n".utf8).write(to: python)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: python.path)
        }
        return dir
    }

    @Test func anEndpointWinsAndTheEnvironmentsOnlyWithoutACheckpoint() throws {
        let env = ["OPENAI_BASE_URL": "http://127.0.0.1:1/v1"]
        #expect(try EvalBackend.choose(endpoint: "http://e/v1", checkpoint: "ckpt", python: nil, train: TrainSection(), environment: env)
                == .endpoint("http://e/v1"))
        #expect(try EvalBackend.choose(endpoint: nil, checkpoint: nil, python: nil, train: TrainSection(), environment: env)
                == .endpoint("http://127.0.0.1:1/v1"))
        #expect(try EvalBackend.choose(endpoint: nil, checkpoint: nil, python: nil, train: TrainSection(), environment: [:]) == nil)
    }

    @Test func aCheckpointRunsTheTrainersEvalScriptWithTheChosenPython() throws {
        let dir = try trainer(withVenv: true)
        let env = ["OPENAI_BASE_URL": "http://127.0.0.1:1/v1", "DSBUILD_TRAINER_DIR": dir.path]
        var train = TrainSection()
        train.device = .cpu
        let backend = try EvalBackend.choose(endpoint: nil, checkpoint: tmp.path("run/ckpt").path, python: nil, train: train, environment: env)
        #expect(backend == .checkpoint(tmp.path("run/ckpt").standardizedFileURL, python: dir.appendingPathComponent(".venv/bin/python").path,
                                       script: dir.appendingPathComponent("eval_mcq.py"), device: "cpu"))
        train.python = "/opt/py/bin/python"
        guard case .checkpoint(_, let python, _, _)? = try EvalBackend.choose(endpoint: nil, checkpoint: "c", python: nil, train: train, environment: env)
        else { Issue.record("a checkpoint"); return }
        #expect(python == "/opt/py/bin/python", "train.python before the trainer's venv")
        guard case .checkpoint(_, let explicit, _, _)? = try EvalBackend.choose(endpoint: nil, checkpoint: "c", python: "py3", train: train, environment: env)
        else { Issue.record("a checkpoint"); return }
        #expect(explicit == "py3", "--python first")
    }

    @Test func anEndpointBackendUsesTheChatItIsHanded() throws {
        struct Refusing: ChatService {
            func complete(_ request: ChatRequest) async throws(ChatError) -> ChatResult { throw ChatError(.badRequest, "no") }
        }
        var asked: String?
        _ = try EvalBackend.endpoint("http://e/v1").chat(for: EvalSettings(model: "m"), questions: []) { base in
            asked = base
            return Refusing()
        }
        #expect(asked == "http://e/v1")
    }
}
