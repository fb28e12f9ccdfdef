import Foundation

/// One keyword as read from a keyword file (or declared by a list source): the subject of a class in the dataset.
/// Its text is stored in Unicode NFC, so a keyword typed precomposed and the same keyword from a decomposed
/// folder name (macOS file systems write NFD) are one keyword, not two that print alike.
public struct KeywordEntry: Sendable, Equatable, Codable {
    public var text: String
    public var category: String?
    public var language: String?
    /// A search query to use instead of `text` when asking sources.
    public var query: String?
    /// Any other column or field of the input, kept verbatim (e.g. `genus`, `family`).
    public var extra: [String: String]

    public init(text: String, category: String? = nil, language: String? = nil, query: String? = nil,
                extra: [String: String] = [:]) {
        self.text = text.precomposedStringWithCanonicalMapping
        self.category = category
        self.language = language
        self.query = query
        self.extra = extra
    }

    /// Fills fields this entry lacks from `other` (same keyword seen twice).
    mutating func merge(_ other: KeywordEntry) {
        if category == nil { category = other.category }
        if language == nil { language = other.language }
        if query == nil { query = other.query }
        for (key, value) in other.extra where extra[key] == nil { extra[key] = value }
    }
}

/// A line of a keyword file that could not be read.
public struct KeywordLineError: Error, Sendable, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let message: String

    public var description: String { "\(file):\(line): \(message)" }
}
