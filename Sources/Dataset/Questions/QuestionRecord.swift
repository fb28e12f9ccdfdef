import Foundation

/// One multiple-choice question as a question file holds it, whatever the format: what every reader returns and
/// every writer takes. Generate's `MCQuestion` (the `questions` table) and Train's `EvalQuestion` convert to and
/// from it, so a field travels file → workspace → file unchanged.
public struct QuestionRecord: Sendable, Equatable {
    public var id: String
    /// 1 = visual recognition, 2 = complex reasoning, 0 when the file does not say.
    public var type: Int
    public var question: String
    public var options: [String]
    /// 0-based index of the correct option.
    public var answer: Int
    public var category: String?
    public var split: String?
    /// Where the question comes from (`generated`, `k-viscuit`…), when the file says.
    public var origin: String?
    public var keyword: String?
    public var imageSHA256: String?
    /// The image file: relative to the file's images folder, or absolute.
    public var imagePath: String?
    /// Where the image was found on the web.
    public var imageURL: String?
    public var aspect: String?
    public var rationale: String?
    public var model: String?
    public var templateSHA256: String?
    /// The record's other fields, as a JSON object text with sorted keys (`{}` when none).
    public var extra: String
    /// The line of the file it was read from (0 when it was not read from a file).
    public var line: Int

    public init(id: String, type: Int, question: String, options: [String], answer: Int, category: String? = nil,
                split: String? = nil, origin: String? = nil, keyword: String? = nil, imageSHA256: String? = nil,
                imagePath: String? = nil, imageURL: String? = nil, aspect: String? = nil, rationale: String? = nil,
                model: String? = nil, templateSHA256: String? = nil, extra: String = "{}", line: Int = 0) {
        self.id = id
        self.type = type
        self.question = question
        self.options = options
        self.answer = answer
        self.category = category
        self.split = split
        self.origin = origin
        self.keyword = keyword
        self.imageSHA256 = imageSHA256
        self.imagePath = imagePath
        self.imageURL = imageURL
        self.aspect = aspect
        self.rationale = rationale
        self.model = model
        self.templateSHA256 = templateSHA256
        self.extra = extra
        self.line = line
    }

    /// The answer's letter (`A` for 0).
    public var answerLetter: String { QuestionVocabulary.letter(answer) ?? "?" }

    /// `extra` as a dictionary.
    public var extraObject: [String: Any] {
        get { QuestionJSON.object(extra) }
        set { extra = QuestionJSON.text(newValue) }
    }
}

/// JSON helpers shared by the question formats: sorted keys, slashes unescaped, so a file is byte-stable.
public enum QuestionJSON {
    public static func object(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    public static func text(_ object: [String: Any]) -> String {
        guard !object.isEmpty,
              let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// A string field, or a number written as text ("7" for 7).
    static func string(_ value: Any?) -> String? {
        switch value {
        case let s as String: return s
        case let n as Int: return String(n)
        default: return nil
        }
    }

    /// An integer field, also from its text ("2").
    static func int(_ value: Any?) -> Int? {
        switch value {
        case let n as Int: return n
        case let s as String: return Int(s.trimmingCharacters(in: .whitespaces))
        default: return nil
        }
    }
}
