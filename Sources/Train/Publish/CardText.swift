import Foundation

/// How text from the manifest, the recipe or a source (keywords, categories, model names, authors, titles, URLs)
/// enters the release's Markdown: as inert text. A line break, a carriage return or a control character becomes a
/// space; `<` and `>` become entities (no raw HTML, no `<!-- dsbuild:… -->` marker the card's merge would read); a
/// table cell's `|` is escaped; a link is made only to an http(s) URL.
enum CardText {
    /// One line of inert Markdown text.
    static func inline(_ s: String) -> String {
        var out = ""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.unicodeScalars.append(CharacterSet.controlCharacters.contains(scalar) ? " " : scalar)
            }
        }
        return out
    }

    /// A table cell: inert, with `|` escaped.
    static func cell(_ s: String) -> String { inline(s).replacingOccurrences(of: "|", with: "\\|") }

    /// A link to `url` when it is one line of http(s), else the text alone.
    static func link(_ text: String, _ url: String?) -> String {
        guard let url, let safe = LicenseTerms.usableURL(url) else { return cell(text) }
        let target = safe.replacingOccurrences(of: "(", with: "%28").replacingOccurrences(of: ")", with: "%29")
            .replacingOccurrences(of: "<", with: "%3C").replacingOccurrences(of: ">", with: "%3E").replacingOccurrences(of: "|", with: "%7C")
        return "[\(cell(text))](\(target))"
    }

    /// A fenced code block of `language` holding `text` (carriage returns gone), its fence longer than any run of
    /// backticks inside, and no line that could read as a card marker.
    static func codeBlock(_ text: String, language: String) -> String {
        let body = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
            .replacingOccurrences(of: "<!--", with: "< !--").trimmingCharacters(in: .whitespacesAndNewlines)
        var longest = 0, run = 0
        for c in body { run = c == "`" ? run + 1 : 0; longest = max(longest, run) }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        return "\(fence)\(language)\n\(body)\n\(fence)\n"
    }
}
