import Dataset
import Foundation

/// One aspect's prompt: plain text with named placeholders (`{keyword}`, `{category}`, `{language}`,
/// `{source_title}`, `{source_description}`), versioned by the sha256 of its text, which is stored with every
/// description it produced.
public struct AspectTemplate: Sendable, Equatable {
    public let aspect: String
    public let text: String
    public let sha256: String

    public static let placeholders = ["keyword", "category", "language", "source_title", "source_description"]

    public init(aspect: String, text: String) {
        self.aspect = aspect
        self.text = text
        sha256 = ContentHash.sha256Hex(text)
    }

    /// The template with its placeholders filled; missing values become empty strings and lines that end up
    /// empty after a `label:` are dropped (a keyword without source metadata gets no "Source title:" line).
    public func render(_ values: [String: String]) -> String {
        let out = PromptPlaceholders.fill(text, names: Self.placeholders, values: values)
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).filter { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            return !(trimmed.hasSuffix(":") && trimmed.count < 40 && trimmed.first != "-")
        }
        return lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Loads `<aspect>.txt` from `directory` when it exists, else the built-in aspect's prompt; nil when neither.
    public static func load(aspect: String, directory: URL?) throws -> AspectTemplate? {
        if let directory {
            let file = directory.appendingPathComponent("\(aspect).txt")
            if FileManager.default.fileExists(atPath: file.path) {
                return AspectTemplate(aspect: aspect, text: try String(contentsOf: file, encoding: .utf8))
            }
        }
        return Aspect.named(aspect)?.prompt.map { AspectTemplate(aspect: aspect, text: $0) }
    }
}

/// Human names of language codes, for `{language}`.
public enum LanguageNames {
    public static let names = ["en": "English", "ko": "Korean", "ja": "Japanese", "zh": "Chinese", "fr": "French",
                               "de": "German", "es": "Spanish", "it": "Italian", "pt": "Portuguese", "ru": "Russian",
                               "vi": "Vietnamese", "th": "Thai", "ar": "Arabic", "hi": "Hindi", "id": "Indonesian"]

    public static func name(_ code: String) -> String { names[code.lowercased()] ?? code }
}
