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
    /// Reads `url`; the format is `format`, else detected from the first record.
    public static func read(_ url: URL, format: QuestionFileFormat? = nil) throws(QuestionFileError) -> (format: QuestionFileFormat, records: [QuestionRecord]) {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw QuestionFileError(file: url.path, line: 0, message: "cannot read it (\(error.localizedDescription))")
        }
        return try parse(text, file: url.path, format: format)
    }

    public static func parse(_ text: String, file: String, format: QuestionFileFormat? = nil) throws(QuestionFileError) -> (format: QuestionFileFormat, records: [QuestionRecord]) {
        var chosen = format
        var records: [QuestionRecord] = []
        for raw in TextLines.split(text) {
            let offset = raw.number - 1
            let line = raw.text.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else {
                throw QuestionFileError(file: file, line: offset + 1, message: "not a JSON object")
            }
            let detected = chosen ?? QuestionFileFormat.detect(object)
            chosen = detected
            do {
                records.append(try detected.record(from: object, line: offset + 1))
            } catch {
                throw QuestionFileError(file: file, line: offset + 1, message: error.message)
            }
        }
        guard let chosen, !records.isEmpty else { throw QuestionFileError(file: file, line: 0, message: "no questions in it") }
        return (chosen, records)
    }

    /// The file's text: one line per record, each ending in `\n`.
    public static func text(_ records: [QuestionRecord], format: QuestionFileFormat) -> String {
        records.map { format.line(for: $0) + "\n" }.joined()
    }

    /// Fills in the keyword of records that have none from the Type 1 question about the same image (whose answer
    /// names what the image shows) — K-Viscuit files carry no keyword.
    public static func inferringKeywords(_ records: [QuestionRecord]) -> [QuestionRecord] {
        func image(_ r: QuestionRecord) -> String? { r.imageSHA256 ?? r.imagePath }
        var keywordByImage: [String: String] = [:]
        for r in records where r.type == 1 {
            if let key = image(r), keywordByImage[key] == nil { keywordByImage[key] = r.options[r.answer] }
        }
        return records.map { r in
            var r = r
            if r.keyword == nil, let key = image(r) { r.keyword = keywordByImage[key] }
            return r
        }
    }
}
