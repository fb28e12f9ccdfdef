import Dataset
import Foundation

/// `dsbuild eval --answers FILE`: one JSON line per question — `id`, `type`, `category`, `answer` and `predicted`
/// letters (`predicted` null when unparsed or not asked), `correct`, the model's `replies`, and `error` when the
/// question could not be asked.
public enum EvalAnswerFile {
    public static func lines(_ answers: [EvalAnswer]) -> String {
        answers.map { a in
            var o: [String: Any] = ["id": a.question.id, "type": a.question.type, "answer": QuestionVocabulary.letter(a.question.answer) ?? "?",
                                    "correct": a.correct, "replies": a.replies, "options": a.question.options]
            let predicted = a.chosen.first.flatMap { $0 }.flatMap(QuestionVocabulary.letter)
            o["predicted"] = predicted.map { $0 as Any } ?? NSNull()
            o["category"] = a.question.category.map { $0 as Any } ?? NSNull()
            o["error"] = a.error.map { $0 as Any } ?? NSNull()
            return QuestionJSON.text(o) + "\n"
        }.joined()
    }

    /// Where one condition's answers go: `path` itself, or `NAME.<condition>.jsonl` beside it when several
    /// conditions are scored (`answers.jsonl` → `answers.with-image.jsonl`; no extension: `.jsonl`).
    public static func url(_ path: String, condition: EvalCondition, oneOfSeveral: Bool) -> URL {
        let url = URL(fileURLWithPath: path)
        guard oneOfSeveral else { return url }
        return url.deletingPathExtension()
            .appendingPathExtension("\(condition.rawValue).\(url.pathExtension.isEmpty ? "jsonl" : url.pathExtension)")
    }

    public static func write(_ answers: [EvalAnswer], to url: URL) throws {
        try Data(lines(answers).utf8).write(to: url, options: .atomic)
    }
}
