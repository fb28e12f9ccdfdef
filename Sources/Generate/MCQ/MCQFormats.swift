import Foundation

/// The question file formats dsbuild reads and writes, one JSON object a line.
public enum MCQFormat: String, Sendable, CaseIterable {
    /// dsbuild's own: question, options, answer index, type, keyword, image sha256, source, model, template hash.
    case dsbuild
    /// K-Viscuit: `question`, `options`, 0-based `answer`, `category`, `id_`, `question_type`, `image_url`, `image_path`.
    case kViscuit = "k-viscuit"
    /// BUTTERFLY style: `options` as one string `"A) … B) … C) … D) …"`, `answer` letter, `question_type` "1"/"2", `label`.
    case butterfly

    public func object(for q: MCQuestion) -> [String: Any] {
        switch self {
        case .dsbuild:
            var object: [String: Any] = ["id": q.id, "question": q.question, "options": q.options, "answer": q.answer,
                                         "type": q.type, "split": q.split, "source": q.origin, "image_sha256": q.imageSHA256]
            if let keyword = q.keyword { object["keyword"] = keyword }
            if let category = q.category { object["category"] = category }
            if let aspect = q.aspect { object["aspect"] = aspect }
            if let rationale = q.rationale { object["rationale"] = rationale }
            if let model = q.model { object["model"] = model }
            if let template = q.templateSHA256 { object["template_sha256"] = template }
            return object
        case .kViscuit:
            // Imported fields come back verbatim (from `extra`); generated questions get the same keys.
            var object = (try? JSONSerialization.jsonObject(with: Data(q.extra.utf8))) as? [String: Any] ?? [:]
            object["question"] = q.question
            object["options"] = q.options
            object["answer"] = q.answer
            if object["id_"] == nil { object["id_"] = q.id }
            object["question_type"] = q.type
            if let category = q.category { object["category"] = category }
            if object["image_path"] == nil { object["image_path"] = q.imageSHA256.isEmpty ? "" : "\(q.imageSHA256).jpg" }
            return object
        case .butterfly:
            let options = q.options.enumerated().map { "\(MCQuestion.letters[$0.offset])) \($0.element)" }.joined(separator: " ")
            var object: [String: Any] = ["id": q.id, "question": q.question, "options": options, "answer": q.answerLetter,
                                         "question_type": String(q.type), "label": q.keyword ?? q.options[q.answer]]
            if !q.imageSHA256.isEmpty { object["image"] = q.imageSHA256 }
            return object
        }
    }

    public func line(for q: MCQuestion) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: object(for: q), options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// Reads a K-Viscuit (or dsbuild) JSONL line into a question; unknown fields are kept in `extra`.
    public static func importKViscuit(line: String, lineNumber: Int) throws -> MCQuestion {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            throw MCQFormatError(line: lineNumber, message: "not a JSON object")
        }
        guard let question = object["question"] as? String, let options = object["options"] as? [String],
              let answer = object["answer"] as? Int, options.indices.contains(answer) else {
            throw MCQFormatError(line: lineNumber, message: "needs question, options (a list) and answer (an index into it)")
        }
        // K-Viscuit's `id_` is not unique (64 of 657 repeat), so the row id adds the line; `id_` stays in `extra`.
        let id = "\((object["id_"] as? String) ?? (object["id"] as? String) ?? "line")#\(lineNumber)"
        let type = (object["question_type"] as? Int) ?? Int(object["question_type"] as? String ?? "") ?? 1
        var extra = object
        for key in ["question", "options", "answer", "question_type", "category"] { extra.removeValue(forKey: key) }
        let extraText = (try? JSONSerialization.data(withJSONObject: extra, options: [.sortedKeys, .withoutEscapingSlashes]))
            .map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return MCQuestion(id: id, type: type, question: question, options: options, answer: answer,
                          category: object["category"] as? String, split: "test", origin: "k-viscuit", extra: extraText)
    }
}

public struct MCQFormatError: Error, Sendable, CustomStringConvertible {
    public let line: Int
    public let message: String
    public var description: String { "line \(line): \(message)" }
}
