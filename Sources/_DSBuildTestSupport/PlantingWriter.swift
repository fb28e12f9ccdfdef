import Dataset
import Foundation
import Synchronization

/// A writer model that plants noise, for the truth benchmark and tests: it answers as
/// `PipelineChatResponder.respondAsAModel`, but a seeded share of its first-attempt descriptions get
/// `PerfectVerifier.falseClaim` appended, and the same share of its generated questions get their key swapped with a
/// distractor. It remembers what it planted (description texts, question stems), so a check can be scored.
public final class PlantingWriter: Sendable {
    public let fraction: Double
    private let planted = Mutex<(descriptions: Set<String>, stems: Set<String>)>(([], []))

    public init(fraction: Double = 0.1) { self.fraction = fraction }

    /// Descriptions written with the false claim.
    public var plantedDescriptions: Set<String> { planted.withLock { $0.descriptions } }
    /// Stems of questions written with a wrong key.
    public var plantedStems: Set<String> { planted.withLock { $0.stems } }

    func chosen(_ text: String) -> Bool {
        let digest = ContentHash.sha256Hex(text)
        return Double(UInt32(digest.prefix(8), radix: 16) ?? 0) / Double(UInt32.max) < fraction
    }

    public func respond(_ body: [String: Any]) -> FakeChatEndpoint.Behaviour {
        let behaviour = PipelineChatResponder.respondAsAModel(body)
        guard case .content(let content, let finish) = behaviour else { return behaviour }
        let schema = PerfectVerifier.schemaName(body)
        let messages = body["messages"] as? [[String: Any]] ?? []
        if schema == "mcq" || FakeChatEndpoint.lastUserText(body).contains("multiple-choice") {
            guard chosen(content), var object = try? JSONSerialization.jsonObject(with: Data(content.utf8)) as? [String: Any],
                  let answer = object["answer"] as? String, var distractors = object["distractors"] as? [String],
                  let stem = object["question"] as? String, !distractors.isEmpty else { return behaviour }
            object["answer"] = distractors[0]
            distractors[0] = answer
            object["distractors"] = distractors
            guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return behaviour }
            planted.withLock { _ = $0.stems.insert(stem) }
            return .content(String(decoding: data, as: UTF8.self), finishReason: finish)
        }
        // A description: a text answer of some length to a first attempt (no earlier answer in the conversation).
        guard schema == nil, content.count > 100, !messages.contains(where: { $0["role"] as? String == "assistant" }),
              chosen(content) else { return behaviour }
        let text = content + " " + PerfectVerifier.falseClaim
        planted.withLock { _ = $0.descriptions.insert(text) }
        return .content(text, finishReason: finish)
    }
}
