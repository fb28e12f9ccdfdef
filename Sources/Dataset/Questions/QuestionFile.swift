import Foundation

/// A question file that cannot be read: which file, which line (0: the whole file), and why.
public struct QuestionFileError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "\(file):\(line): \(message)" : "\(file): \(message)" }
}

/// Reads and writes whole question files in any `QuestionFileFormat`.
public enum QuestionFile {
    /// A file read: its format, its questions in file order, and the 1-based line each was read from.
    public struct Contents: Sendable {
        public var format: QuestionFileFormat
        public var questions: [Question]
        /// `lines[i]` is the line of `questions[i]`.
        public var lines: [Int]
    }

    /// Reads `url`; the format is `format`, else detected from the first record.
    public static func read(_ url: URL, format: QuestionFileFormat? = nil) throws(QuestionFileError) -> Contents {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw QuestionFileError(file: url.path, line: 0, message: "cannot read it (\(error.localizedDescription))")
        }
        return try parse(text, file: url.path, format: format)
    }

    public static func parse(_ text: String, file: String, format: QuestionFileFormat? = nil) throws(QuestionFileError) -> Contents {
        var chosen = format
        var questions: [Question] = []
        var lines: [Int] = []
        for raw in TextLines.split(text) {
            let number = raw.number
            let line = raw.text.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                throw QuestionFileError(file: file, line: number, message: "not a JSON object")
            }
            let detected = chosen ?? QuestionFileFormat.detect(object)
            chosen = detected
            do {
                questions.append(try detected.question(from: object, line: number))
                lines.append(number)
            } catch {
                throw QuestionFileError(file: file, line: number, message: error.message)
            }
        }
        guard let chosen, !questions.isEmpty else { throw QuestionFileError(file: file, line: 0, message: "no questions in it") }
        return Contents(format: chosen, questions: questions, lines: lines)
    }

    /// The file's text: one line per question, each ending in `\n`.
    public static func text(_ questions: [Question], format: QuestionFileFormat) -> String {
        questions.map { format.line(for: $0) + "\n" }.joined()
    }

    /// Fills in the keyword of questions that have none from the Type 1 question about the same image (whose answer
    /// names what the image shows) — K-Viscuit files carry no keyword.
    public static func inferringKeywords(_ questions: [Question]) -> [Question] {
        func image(_ q: Question) -> String? { q.imageSHA256 ?? q.imagePath }
        var keywordByImage: [String: String] = [:]
        for q in questions where q.type == 1 {
            if let key = image(q), keywordByImage[key] == nil { keywordByImage[key] = q.options[q.answer] }
        }
        return questions.map { q in
            var q = q
            if q.keyword == nil, let key = image(q) { q.keyword = keywordByImage[key] }
            return q
        }
    }
}
