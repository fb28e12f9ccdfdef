import Foundation

/// The dataset card's generated regions and how a re-publish merges them into the card a user edited: the YAML
/// front matter and every `<!-- dsbuild:begin NAME -->…<!-- dsbuild:end NAME -->` region are written anew; every
/// other line of the existing card is kept as the user left it. A region the user's card lacks is appended.
enum CardRegions {
    static func begin(_ name: String) -> String { "<!-- dsbuild:begin \(name) -->" }
    static func end(_ name: String) -> String { "<!-- dsbuild:end \(name) -->" }

    /// A region with its markers.
    static func wrap(_ name: String, _ content: String) -> String {
        "\(begin(name))\n\(content.trimmingCharacters(in: .newlines))\n\(end(name))"
    }

    /// The card: `frontMatter` and `regions` (in order) merged into `existing` (nil: the first publish, laid out
    /// as `template`, a body with every region's markers in place).
    static func merge(frontMatter: String, regions: [(name: String, content: String)], template: String, existing: String?) -> String {
        var body = existing.map(stripFrontMatter) ?? template
        for (name, content) in regions {
            let region = wrap(name, content)
            if let start = body.range(of: begin(name)), let stop = body.range(of: end(name), range: start.upperBound..<body.endIndex) {
                body.replaceSubrange(start.lowerBound..<stop.upperBound, with: region)
            } else {
                if !body.hasSuffix("\n") { body += "\n" }
                body += "\n" + region + "\n"
            }
        }
        return "---\n" + frontMatter + "---\n" + body
    }

    /// The card's text after its YAML front matter.
    static func stripFrontMatter(_ text: String) -> String {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        guard normalized.hasPrefix("---\n") else { return normalized }
        let rest = normalized.dropFirst(4)
        guard let close = rest.range(of: "\n---\n") else { return normalized }
        return String(rest[close.upperBound...])
    }
}
