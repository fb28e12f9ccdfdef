import Foundation

/// The dataset card's generated regions and how a re-publish merges them into the card a user edited: the YAML
/// front matter and every `<!-- dsbuild:begin NAME -->…<!-- dsbuild:end NAME -->` region are written anew; every
/// other line of the existing card is kept as the user left it. A region is a begin line and its end line with no
/// other marker line between (markers count only as whole lines); a begin without its end (a user deleted it) is
/// left as the user's text, never a span to replace, and the region is appended anew. A region the user's card
/// lacks is appended. Generated content never holds a marker (`wrap` neutralises one), so the card cannot grow.
enum CardRegions {
    static func begin(_ name: String) -> String { "<!-- dsbuild:begin \(name) -->" }
    static func end(_ name: String) -> String { "<!-- dsbuild:end \(name) -->" }

    /// A region with its markers; a marker-like sequence in the content is made inert.
    static func wrap(_ name: String, _ content: String) -> String {
        let inert = content.replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "<!-- dsbuild:", with: "&lt;!-- dsbuild:")
        return "\(begin(name))\n\(inert.trimmingCharacters(in: .newlines))\n\(end(name))"
    }

    static func isMarker(_ line: Substring) -> Bool {
        (line.hasPrefix("<!-- dsbuild:begin ") || line.hasPrefix("<!-- dsbuild:end ")) && line.hasSuffix(" -->")
    }

    /// The card: `frontMatter` and `regions` (in order) merged into `existing` (nil: the first publish, laid out
    /// as `template`, a body with every region's markers in place).
    static func merge(frontMatter: String, regions: [(name: String, content: String)], template: String, existing: String?) -> String {
        var body = existing.map(stripFrontMatter) ?? template
        for (name, content) in regions {
            let region = wrap(name, content)
            if let span = span(of: name, in: body) {
                body.replaceSubrange(span, with: region)
            } else {
                if !body.hasSuffix("\n") { body += "\n" }
                body += "\n" + region + "\n"
            }
        }
        return "---\n" + frontMatter + "---\n" + body
    }

    /// The range of region `name` in `body`: its begin line through its end line, when no other marker line comes
    /// between them.
    static func span(of name: String, in body: String) -> Range<String.Index>? {
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, line) in lines.enumerated() where line == begin(name) {
            guard let j = lines[(i + 1)...].firstIndex(where: isMarker), lines[j] == end(name) else { continue }
            return line.startIndex..<lines[j].endIndex
        }
        return nil
    }

    /// The card's text after its YAML front matter (carriage returns gone).
    static func stripFrontMatter(_ text: String) -> String {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        guard normalized.hasPrefix("---\n") else { return normalized }
        let rest = normalized.dropFirst(4)
        guard let close = rest.range(of: "\n---\n") else { return normalized }
        return String(rest[close.upperBound...])
    }
}
