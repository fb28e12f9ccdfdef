import Foundation

/// One multiple-choice question, wherever it is: a `questions` row (`QuestionRow`), a record of a question file in
/// any `QuestionFileFormat`, what eval asks and scores, what the shards and exports write. Generate, Train and the
/// file formats all speak this one type, so a field travels table → file → table → eval unchanged.
public struct Question: Sendable, Equatable {
    public var id: String
    /// 1 = visual recognition, 2 = complex reasoning, 0 when a file does not say.
    public var type: Int
    public var question: String
    public var options: [String]
    /// 0-based index of the correct option.
    public var answer: Int
    public var category: String?
    /// `train` or `test`; nil when a file does not say (the table's default is `train`).
    public var split: String?
    /// Where the question comes from (`generated`, `k-viscuit`, `imported`…); nil when a file does not say (the
    /// table's default is `generated`).
    public var origin: String?
    /// The keyword the question is about: its text (from the `keywords` row when linked).
    public var keyword: String?
    /// The `keywords` row it is linked to, in a workspace.
    public var keywordID: Int64?
    public var imageSHA256: String?
    /// The image file as a file gives it (relative to the file's images folder, or absolute); eval of a workspace
    /// sets it to the stored image's absolute path.
    public var imagePath: String?
    /// Where the image was found on the web.
    public var imageURL: String?
    public var aspect: String?
    public var rationale: String?
    public var model: String?
    public var templateSHA256: String?
    /// The other fields (a file record's unknown ones, a rejection's detail), as a JSON object text with sorted keys
    /// (`{}` when none).
    public var extra: String

    public init(id: String, type: Int, question: String, options: [String], answer: Int, category: String? = nil,
                split: String? = nil, origin: String? = nil, keyword: String? = nil, keywordID: Int64? = nil,
                imageSHA256: String? = nil, imagePath: String? = nil, imageURL: String? = nil, aspect: String? = nil,
                rationale: String? = nil, model: String? = nil, templateSHA256: String? = nil, extra: String = "{}") {
        self.id = id
        self.type = type
        self.question = question
        self.options = options
        self.answer = answer
        self.category = category
        self.split = split
        self.origin = origin
        self.keyword = keyword
        self.keywordID = keywordID
        self.imageSHA256 = imageSHA256
        self.imagePath = imagePath
        self.imageURL = imageURL
        self.aspect = aspect
        self.rationale = rationale
        self.model = model
        self.templateSHA256 = templateSHA256
        self.extra = extra
    }

    /// The answer's letter (`A` for 0; `?` past the last letter).
    public var answerLetter: String { QuestionVocabulary.letter(answer) ?? "?" }

    /// The prompt every model is asked it in (`QuestionVocabulary.prompt`).
    public var prompt: String { QuestionVocabulary.prompt(question: question, options: options) }

    /// The question with its options moved by `permutation` (new position i holds old option permutation[i]):
    /// answer balancing.
    public func permuted(_ permutation: [Int]) -> Question {
        precondition(permutation.sorted() == Array(options.indices), "not a permutation of the options")
        var copy = self
        copy.options = permutation.map { options[$0] }
        copy.answer = permutation.firstIndex(of: answer)!
        return copy
    }

    /// The question with its options rotated by `shift` (CircularEval): option i moves to (i + shift) mod n.
    public func rotated(by shift: Int) -> Question {
        let n = options.count
        guard n > 0, shift % n != 0 else { return self }
        var copy = self
        var rotated = Array(repeating: "", count: n)
        for (i, option) in options.enumerated() { rotated[(i + shift) % n] = option }
        copy.options = rotated
        copy.answer = (answer + shift) % n
        return copy
    }

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
