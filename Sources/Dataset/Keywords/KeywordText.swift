/// What a keyword may be: not empty, no NUL or other control characters (SQLite and C strings stop at NUL, so
/// `ab\0cd` would be stored as `ab`), and at most `maxLength` characters. Every keyword reader applies it.
public enum KeywordText {
    /// The longest keyword accepted, in characters. A keyword is a class name or a short query; anything longer
    /// is a broken line (a whole paragraph, a file read with the wrong format).
    public static let maxLength = 200

    /// Whether `text` shows nothing: only white space and invisible format characters (a zero-width space…).
    /// A text-file line like that is a blank line, not a keyword.
    public static func isBlank(_ text: String) -> Bool {
        !text.unicodeScalars.contains { !$0.properties.isWhitespace && $0.properties.generalCategory != .format }
    }

    /// Why `text` (already trimmed) cannot be a keyword, or nil when it can.
    public static func problem(with text: String) -> String? {
        if text.unicodeScalars.contains("\u{0}") {
            return "contains a NUL byte; save the file as plain UTF-8 text"
        }
        if let control = control(in: text) { return "contains the control character \(control)" }
        if isBlank(text) {
            return "empty keyword"
        }
        if text.count > maxLength {
            return "keyword is \(text.count) characters, over the limit of \(maxLength)"
        }
        return nil
    }

    /// Why a keyword's `field` (its category, its query) cannot be kept, or nil: a control character (a line break
    /// in a category would start a new line of every prompt and record it is written into).
    public static func problem(field: String, _ text: String) -> String? {
        control(in: text).map { "its \(field) contains the control character \($0)" }
    }

    /// The first control character of `text` other than a tab, as `U+000A`.
    static func control(in text: String) -> String? {
        text.unicodeScalars.first { $0.properties.generalCategory == .control && $0 != "\t" }
            .map { "U+\(String($0.value, radix: 16, uppercase: true).leftPadded(4))" }
    }
}

private extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
