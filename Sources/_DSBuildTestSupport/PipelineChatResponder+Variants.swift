import Dataset
import Foundation

extension PipelineChatResponder {
    /// `respond`, as a real model behaves over a whole experiment: the MCQ variants of one keyword (which differ by
    /// `seed` only) get different questions, and about half of the Type 2 stems point at the image ("… shown in
    /// this image …") or one of its options does, as real models write them — so text-only shards have
    /// image-referring questions to leave out.
    public static func respondAsAModel(_ body: [String: Any]) -> FakeChatEndpoint.Behaviour {
        let schema = ((body["response_format"] as? [String: Any])?["json_schema"] as? [String: Any])?["name"] as? String
        guard schema == "mcq" || FakeChatEndpoint.lastUserText(body).contains("multiple-choice") else { return respond(body) }
        var copy = body
        if let seed = body["seed"] {
            copy["messages"] = (body["messages"] as? [Any] ?? []) + [["role": "system", "content": "seed \(seed)"]]
        }
        let behaviour = respond(copy)
        guard case .content(let content, _) = behaviour,
              var object = try? JSONSerialization.jsonObject(with: Data(content.utf8)) as? [String: Any],
              let question = object["question"] as? String, let last = ContentHash.sha256Hex(question).last else { return behaviour }
        if "02468ace".contains(last) {
            object["question"] = question.replacingOccurrences(of: "Which material is traditionally used for the",
                                                               with: "Which material is used for the part shown in this image, the")
        } else if "15".contains(last), var distractors = object["distractors"] as? [String], !distractors.isEmpty {
            // A plain stem with an option that points at the image: the record still cannot be asked without it.
            distractors[0] = "The material visible in the photo"
            object["distractors"] = distractors
        } else {
            return behaviour
        }
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return behaviour }
        return .content(String(decoding: data, as: UTF8.self))
    }
}
