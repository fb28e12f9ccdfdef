import Foundation

/// One multiple-choice question to score, whatever file or table it came from.
public struct EvalQuestion: Sendable, Equatable {
    public var id: String
    /// 1: recognition, 2: reasoning (0 when the source does not say).
    public var type: Int
    public var question: String
    public var options: [String]
    public var answer: Int
    public var category: String?
    /// Where the image is: absolute, or relative to the images directory.
    public var imagePath: String?
    /// The keyword the question is about, when known (for `description-only`).
    public var keyword: String?

    public init(id: String, type: Int, question: String, options: [String], answer: Int, category: String? = nil,
                imagePath: String? = nil, keyword: String? = nil) {
        self.id = id
        self.type = type
        self.question = question
        self.options = options
        self.answer = answer
        self.category = category
        self.imagePath = imagePath
        self.keyword = keyword
    }

    /// The question with its options rotated by `shift` (CircularEval): option i moves to (i + shift) mod n.
    public func rotated(by shift: Int) -> EvalQuestion {
        let n = options.count
        guard n > 0, shift % n != 0 else { return self }
        var copy = self
        var rotated = Array(repeating: "", count: n)
        for (i, option) in options.enumerated() { rotated[(i + shift) % n] = option }
        copy.options = rotated
        copy.answer = (answer + shift) % n
        return copy
    }
}

/// A file format of questions, detected from the fields of its first record.
public enum QuestionFileFormat: String, Sendable {
    /// K-Viscuit: `question`, `options`, `answer` (index), `question_type`, `id_`, `image_path`, `category`.
    case kViscuit = "k-viscuit"
    /// BUTTERFLY / MMBench style: options as `A`…`D` fields (or `choices`), `answer` a letter.
    case butterfly
    /// dsbuild's own export: `id`, `type`, `question`, `options`, `answer` (index), `image`, `keyword`.
    case dsbuild
}

public struct QuestionFileError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let message: String
    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

/// Reads questions from JSONL in any of the supported formats.
public enum QuestionFileReader {
    public static func read(_ url: URL) throws -> (format: QuestionFileFormat, questions: [EvalQuestion]) {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw QuestionFileError(file: url.path, line: 0, message: "cannot read it (\(error.localizedDescription))")
        }
        return try parse(text, file: url.path)
    }

    public static func parse(_ text: String, file: String) throws -> (format: QuestionFileFormat, questions: [EvalQuestion]) {
        var format: QuestionFileFormat?
        var questions: [EvalQuestion] = []
        for (offset, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                throw QuestionFileError(file: file, line: offset + 1, message: "not a JSON object")
            }
            let detected = format ?? detect(object)
            format = detected
            do {
                questions.append(try question(from: object, format: detected, number: questions.count))
            } catch let message as Message {
                throw QuestionFileError(file: file, line: offset + 1, message: message.text)
            }
        }
        guard let format else { throw QuestionFileError(file: file, line: 0, message: "no questions in it") }
        // K-Viscuit: the keyword of an image is the answer of its Type 1 question.
        if format == .kViscuit {
            var keywordByImage: [String: String] = [:]
            for q in questions where q.type == 1 { if let p = q.imagePath { keywordByImage[p] = q.options[q.answer] } }
            for i in questions.indices where questions[i].keyword == nil {
                questions[i].keyword = questions[i].imagePath.flatMap { keywordByImage[$0] }
            }
        }
        return (format, questions)
    }

    static func detect(_ o: [String: Any]) -> QuestionFileFormat {
        if o["id_"] != nil || o["question_type"] != nil { return .kViscuit }
        if o["A"] != nil || o["choices"] != nil || (o["answer"] as? String).map({ $0.count == 1 }) == true { return .butterfly }
        return .dsbuild
    }

    private struct Message: Error { let text: String }

    private static func question(from o: [String: Any], format: QuestionFileFormat, number: Int) throws -> EvalQuestion {
        guard let question = o["question"] as? String else { throw Message(text: "no `question` field") }
        var options: [String]
        if let list = (o["options"] ?? o["choices"]) as? [Any] {
            options = list.map { "\($0)" }
        } else {
            options = []
            for letter in ChatTemplates.letters {
                guard let value = o[letter] else { break }
                if let s = value as? String, s.isEmpty { break }
                options.append("\(value)")
            }
        }
        guard options.count >= 2 else { throw Message(text: "fewer than two options") }
        guard options.count <= ChatTemplates.letters.count else { throw Message(text: "more than \(ChatTemplates.letters.count) options") }
        let answer: Int
        if let index = o["answer"] as? Int {
            answer = index
        } else if let s = o["answer"] as? String {
            let t = s.trimmingCharacters(in: .whitespaces)
            if let i = ChatTemplates.letters.firstIndex(of: t.uppercased()), t.count == 1 {
                answer = i
            } else if let i = options.firstIndex(of: t) {
                answer = i
            } else if let i = Int(t) {
                answer = i
            } else {
                throw Message(text: "answer \(s) is neither an option letter, an index nor an option's text")
            }
        } else {
            throw Message(text: "no `answer` field")
        }
        guard options.indices.contains(answer) else { throw Message(text: "answer \(answer) is out of range for \(options.count) options") }
        let type = (o["question_type"] as? Int) ?? (o["type"] as? Int) ?? Int((o["type"] as? String) ?? "") ?? 0
        let idValue = o["id_"] ?? o["id"] ?? o["question_id"] ?? o["index"]
        let id = idValue.map { "\($0)" } ?? "q\(number)"
        let image = (o["image_path"] ?? o["image"]) as? String
        return EvalQuestion(id: id, type: type, question: question, options: options, answer: answer,
                            category: o["category"] as? String, imagePath: image, keyword: o["keyword"] as? String)
    }
}
