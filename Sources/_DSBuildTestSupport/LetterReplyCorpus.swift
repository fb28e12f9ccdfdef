import Dataset
import Foundation

/// Model replies and the option each must be read as (nil: unparsed), over one question's options — the corpus
/// every letter extraction is held to: eval and mcq's blind check (`LetterExtractor`), and the bundled Python
/// evaluator's `extract_letter`, which reads it from `trainer/tests/letter_replies.json` (`json`).
public enum LetterReplyCorpus {
    public static let options = ["Bungeo-ppang", "Hwangnam-ppang", "Dakjuk", "Ice cream"]

    public static let cases: [(reply: String, expected: Int?)] = [
        ("A", 0), ("(B)", 1), ("C.", 2), ("Answer: D", 3), ("the answer is A", 0), ("The answer is B.", 1),
        ("answer is (c)", 2), ("**B**", 1), ("I think it's A", 0), ("Dakjuk", 2), ("It is ice cream.", 3),
        ("Bungeo-ppang", 0), ("A or B", nil), ("I cannot tell", nil), ("", nil), ("E", nil),
        ("B. Hwangnam-ppang", 1), ("answer: a", nil), ("Bungeo-ppang or Hwangnam-ppang", nil),
        ("A is what many people would guess at first glance here", nil), ("The answer is E, or rather C", 2),
    ]

    /// The corpus as the Python tests read it: the options, and each reply with its expected letter (null: unparsed).
    public static var json: String {
        let object: [String: Any] = [
            "options": options,
            "cases": cases.map { ["reply": $0.reply, "expected": $0.expected.flatMap(QuestionVocabulary.letter) ?? NSNull()] as [String: Any] },
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
