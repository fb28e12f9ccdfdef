import Foundation

/// The question file formats dsbuild reads and writes, one JSON object a line. Each has one reader and one writer
/// (its own file); `QuestionFile` reads and writes whole files of `Question`s and detects the format of a file it is given.
public enum QuestionFileFormat: String, Sendable, CaseIterable {
    /// dsbuild's own: every field of a stored question (`id`, `type`, `options`, `answer` index, `split`, `origin`,
    /// `keyword`, `image_sha256`, `image`, `image_url`, `aspect`, `rationale`, `model`, `template_sha256`, `extra`).
    case dsbuild
    /// K-Viscuit: `question`, `options`, 0-based `answer`, `category`, `id_`, `question_type`, `image_url`,
    /// `image_path` (under the `images/` folder beside the file).
    case kViscuit = "k-viscuit"
    /// BUTTERFLY style: `options` as one string `"A) … B) … C) … D) …"` (also read: `A`…`H` fields or a
    /// `choices` list), `answer` a letter, `question_type` "1"/"2", `label` the keyword, `image`.
    case butterfly

    /// The format of a record, from its fields: a letter answer or per-letter options is BUTTERFLY style; `id_`,
    /// `question_type` or `image_path` is K-Viscuit; anything else is dsbuild's.
    public static func detect(_ o: [String: Any]) -> QuestionFileFormat {
        if o["answer"] is String || o["A"] != nil || o["choices"] != nil || o["options"] is String { return .butterfly }
        if o["id_"] != nil || o["question_type"] != nil || o["image_path"] != nil { return .kViscuit }
        return .dsbuild
    }

    /// Reads one record (`line`: its line, for the id of a record that has none); the problem says what is wrong with it.
    public func question(from object: [String: Any], line: Int) throws(QuestionFormatProblem) -> Question {
        switch self {
        case .dsbuild: try DSBuildQuestionFormat.read(object, line: line)
        case .kViscuit: try KViscuitQuestionFormat.read(object, line: line)
        case .butterfly: try ButterflyQuestionFormat.read(object, line: line)
        }
    }

    /// Writes one question as a record (a JSON object).
    public func object(for question: Question) -> [String: Any] {
        switch self {
        case .dsbuild: DSBuildQuestionFormat.write(question)
        case .kViscuit: KViscuitQuestionFormat.write(question)
        case .butterfly: ButterflyQuestionFormat.write(question)
        }
    }

    /// One line of the file (sorted keys, slashes unescaped).
    public func line(for question: Question) -> String {
        QuestionJSON.text(object(for: question))
    }
}

/// What is wrong with one record of a question file.
public struct QuestionFormatProblem: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Checks shared by every reader: a question, 2 to 8 options, an answer among them.
enum QuestionChecks {
    static func question(_ o: [String: Any]) throws(QuestionFormatProblem) -> String {
        guard let q = o["question"] as? String else { throw QuestionFormatProblem("no `question` field (a string)") }
        try noNUL(q, "the question")
        return q
    }

    /// SQLite binds text as a C string: a NUL would cut the stored text short without a word, so a row with one is refused.
    static func noNUL(_ text: String, _ what: String) throws(QuestionFormatProblem) {
        if text.unicodeScalars.contains("\u{0}") { throw QuestionFormatProblem("\(what) contains a NUL character (U+0000), which would cut it short") }
    }

    static func options(_ options: [String]) throws(QuestionFormatProblem) -> [String] {
        guard options.count >= 2 else { throw QuestionFormatProblem("fewer than two options") }
        for (i, option) in options.enumerated() { try noNUL(option, "option \(i + 1)") }
        let most = QuestionVocabulary.letters.count
        guard options.count <= most else { throw QuestionFormatProblem("\(options.count) options; at most \(most) (A–\(QuestionVocabulary.letters[most - 1]))") }
        return options
    }

    static func list(_ value: Any?) -> [String]? {
        (value as? [Any]).map { $0.map { QuestionJSON.string($0) ?? "\($0)" } }
    }

    /// The answer as an index: an integer (or its text), a letter, or an option's exact text.
    static func answer(_ value: Any?, options: [String]) throws(QuestionFormatProblem) -> Int {
        let index: Int
        if let i = value as? Int {
            index = i
        } else if let s = value as? String {
            if let i = QuestionVocabulary.index(ofLetter: s) { index = i }
            else if let i = options.firstIndex(of: s) { index = i }
            else if let i = Int(s.trimmingCharacters(in: .whitespaces)) { index = i }
            else { throw QuestionFormatProblem("answer \(s) is neither an option letter, an index nor an option's text") }
        } else {
            throw QuestionFormatProblem("no `answer` field")
        }
        guard options.indices.contains(index) else {
            throw QuestionFormatProblem("answer \(index) is out of range for \(options.count) options")
        }
        return index
    }

    /// The fields of `o` not in `known`, as JSON text.
    static func extra(_ o: [String: Any], known: Set<String>) -> String {
        QuestionJSON.text(o.filter { !known.contains($0.key) })
    }

    /// `extra` merged under `fields` (fields win), nil values dropped.
    static func merged(_ extra: String, _ fields: [String: Any?]) -> [String: Any] {
        var out = QuestionJSON.object(extra)
        for (key, value) in fields {
            if let value { out[key] = value } else { out.removeValue(forKey: key) }
        }
        return out
    }
}
