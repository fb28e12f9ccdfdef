import Dataset
import Foundation

/// Scores questions with a local checkpoint through the bundled trainer's `eval_mcq.py` (option log-likelihood or
/// generation), for users without a serving stack. It runs the script once over every question (every rotation
/// when circular), then answers the evaluator's requests from those predictions, so scoring, intervals and
/// storage are the same as for a served model.
public final class LocalCheckpointChat: ChatService {
    public struct Settings: Sendable {
        public var python: String
        public var script: URL
        public var checkpoint: URL
        public var condition: EvalCondition
        public var imagesDirectory: URL?
        public var method = "loglik"
        public var device = "auto"

        public init(python: String, script: URL, checkpoint: URL, condition: EvalCondition, imagesDirectory: URL?) {
            self.python = python
            self.script = script
            self.checkpoint = checkpoint
            self.condition = condition
            self.imagesDirectory = imagesDirectory
        }
    }

    public let settings: Settings
    /// Prompt text → the reply: the generated text, or the predicted letter ("" when the script skipped the question).
    private let predictions: [String: String]

    private init(settings: Settings, predictions: [String: String]) {
        self.settings = settings
        self.predictions = predictions
    }

    /// Runs `eval_mcq.py` over the questions (rotated too when `circular`) and keeps its answers.
    public static func prepare(_ settings: Settings, questions: [Question], circular: Bool) throws -> LocalCheckpointChat {
        guard settings.condition != .descriptionOnly else {
            throw EvalError("a local checkpoint is scored with-image or no-image; description-only needs an endpoint")
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("dsbuild-eval-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        var lines: [String] = []
        var promptByID: [String: String] = [:]
        for question in questions {
            let shifts = circular ? Array(0..<question.options.count) : [0]
            for shift in shifts {
                let q = question.rotated(by: shift)
                let id = "\(question.id)#\(shift)"
                promptByID[id] = q.prompt
                var object: [String: Any] = ["id": id, "question": q.question, "options": q.options, "answer": q.answer,
                                             "question_type": q.type]
                if let path = q.imagePath {
                    object["image_path"] = path.hasPrefix("/") ? path
                        : (settings.imagesDirectory ?? URL(fileURLWithPath: ".")).appendingPathComponent(path).path
                }
                lines.append(JSONText.encodeObject(object))
            }
        }
        let file = work.appendingPathComponent("questions.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [settings.python, settings.script.path, "--model", settings.checkpoint.path, "--questions", file.path,
                             "--condition", settings.condition.rawValue, "--method", settings.method, "--device", settings.device]
        let out = work.appendingPathComponent("out.jsonl")
        let err = work.appendingPathComponent("err.txt")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()

        var predictions: [String: String] = [:]
        var failure: String?
        for line in (try String(contentsOf: out, encoding: .utf8)).split(separator: "\n") {
            guard let event = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            let id = event["id"] as? String ?? ""
            switch event["event"] as? String {
            // A generated reply goes to the evaluator as the model said it, so `LetterExtractor` reads it as it reads
            // a served model's; `loglik` gives the letter it scored highest.
            case "answer": if let prompt = promptByID[id] { predictions[prompt] = event["output"] as? String ?? event["predicted"] as? String ?? "" }
            case "skip": if let prompt = promptByID[id] { predictions[prompt] = "" }
            case "error": failure = event["message"] as? String
            default: break
            }
        }
        if process.terminationStatus != 0 || failure != nil {
            let last = (try? String(contentsOf: err, encoding: .utf8))?.split(separator: "\n").last.map(String.init) ?? ""
            throw EvalError("eval_mcq.py failed on \(settings.checkpoint.path): \(failure ?? last)")
        }
        return LocalCheckpointChat(settings: settings, predictions: predictions)
    }

    public func complete(_ request: ChatRequest) async throws(ChatError) -> ChatResult {
        let text = request.messages.last?.parts.compactMap { part -> String? in
            if case .text(let t) = part { return t } else { return nil }
        }.last ?? ""
        guard let letter = predictions[text] else {
            throw ChatError(.badRequest, "the local checkpoint was not asked this question")
        }
        return ChatResult(text: letter, usage: ChatUsage(), fromCache: false, requestKey: ContentHash.sha256Hex(text),
                          finishReason: "stop", model: settings.checkpoint.lastPathComponent, attempts: 1)
    }
}
