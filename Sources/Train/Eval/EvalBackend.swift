import Dataset
import Foundation

/// What `eval` scores: a model behind an OpenAI-compatible endpoint, or a local checkpoint through the bundled
/// trainer's `eval_mcq.py` (no server).
///
/// The endpoint's client (`OpenAIClient`) lives in Generate, which Train does not import (modules do not import
/// each other): `chat(…)` takes it as `endpointChat`, handed in by the CLI as it hands other modules'
/// implementations to a stage.
public enum EvalBackend: Sendable, Equatable {
    /// An OpenAI-compatible base URL, as given (the client checks it is http(s)).
    case endpoint(String)
    /// A checkpoint folder scored by `python script` (the trainer's `eval_mcq.py`) on `device` (nil: its default).
    case checkpoint(URL, python: String, script: URL, device: String?)

    /// The choice: `endpoint` (`--endpoint`, else `eval.endpoint`), else `$OPENAI_BASE_URL` unless a checkpoint is
    /// given, else the checkpoint; nil when there is none of them.
    ///
    /// A checkpoint finds the bundled trainer (`TrainerLocation`) and runs it with `python` (`--python`), else
    /// `train.python`, else the trainer's own environment, else `python3`, on `train.device`.
    public static func choose(endpoint: String?, checkpoint: String?, python: String?, train: TrainSection,
                              environment: [String: String] = ProcessInfo.processInfo.environment) throws(TrainError) -> EvalBackend? {
        if let base = endpoint ?? (checkpoint == nil ? environment["OPENAI_BASE_URL"] : nil) {
            return .endpoint(base)
        }
        guard let checkpoint else { return nil }
        let trainer = try TrainerLocation.find(explicit: nil, environment: environment)
        return .checkpoint(URL(fileURLWithPath: checkpoint).standardizedFileURL,
                           python: python ?? train.python ?? TrainerLocation.defaultPython(in: trainer),
                           script: trainer.appendingPathComponent("eval_mcq.py"), device: train.device?.rawValue)
    }

    /// The chat that answers `questions` in `settings.condition`: `endpointChat(base)` for an endpoint; for a
    /// checkpoint, the trainer scoring every question (and rotation, under CircularEval) up front.
    public func chat(for settings: EvalSettings, questions: [Question],
                     endpointChat: (String) throws -> any ChatService) throws -> any ChatService {
        switch self {
        case .endpoint(let base):
            return try endpointChat(base)
        case .checkpoint(let folder, let python, let script, let device):
            var local = LocalCheckpointChat.Settings(python: python, script: script, checkpoint: folder,
                                                     condition: settings.condition, imagesDirectory: settings.imagesDirectory)
            if let device { local.device = device }
            return try LocalCheckpointChat.prepare(local, questions: questions, circular: settings.circular)
        }
    }
}
