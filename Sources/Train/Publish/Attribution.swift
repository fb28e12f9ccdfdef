import Foundation

/// `ATTRIBUTION.csv` and its rendering `ATTRIBUTION.md`: for every published image its author, licence (with the
/// deed's URL), source and source page, and what was done to it (rotated, re-encoded, resized: what the renderer
/// did) — the credit CC BY and CC BY-SA require. Images the licence policy left out are listed in their own file
/// (`ATTRIBUTION_EXCLUDED.csv`) and section, each with the reason. Sorted by image hash: the same release writes
/// the same bytes.
enum Attribution {
    static let columns = ["image_sha256", "file", "keyword", "author", "license", "license_url", "source", "source_page",
                          "modifications", "rows"]
    static let excludedColumns = ["image_sha256", "keyword", "author", "license", "license_url", "source", "source_page",
                                  "reason", "rows_left_out"]

    /// A CSV field: quoted when it holds a comma, quote or line break; a field a spreadsheet would run as a formula
    /// (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is prefixed with `'` (OWASP CSV injection).
    static func csvField(_ raw: String) -> String {
        let s = raw.first.map { "=+-@\t\r".contains($0) } == true ? "'" + raw : raw
        guard s.contains(where: { ",\"\n\r".contains($0) }) else { return s }
        return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private static func csv(_ header: [String], _ rows: [[String]]) -> Data {
        var text = header.joined(separator: ",") + "\r\n"
        for row in rows { text += row.map(csvField).joined(separator: ",") + "\r\n" }
        return Data(text.utf8)
    }

    static func modifications(_ image: PublishedImage) -> String {
        image.modifications.isEmpty ? "none (the original file's bytes)" : image.modifications.joined(separator: "; ")
    }

    static func publishedRows(_ images: PublishedImages) -> [[String]] {
        images.published.map { i in
            [i.image.sha, i.name, i.keyword, i.origin?.author ?? "", i.terms.id ?? "", i.terms.url ?? "", i.origin?.source ?? "",
             i.origin?.pageURL ?? "", modifications(i), "\(i.rows)"]
        }
    }

    static func excludedRows(_ images: PublishedImages) -> [[String]] {
        images.refused.map { i in
            [i.image.sha, i.keyword, i.origin?.author ?? "", i.terms.id ?? "", i.terms.url ?? "", i.origin?.source ?? "",
             i.origin?.pageURL ?? "", i.refusal ?? "", "\(i.rows)"]
        }
    }

    static func csv(_ images: PublishedImages) -> Data { csv(columns, publishedRows(images)) }
    static func excludedCSV(_ images: PublishedImages) -> Data { csv(excludedColumns, excludedRows(images)) }

    private static func md(_ s: String) -> String { CardText.cell(s) }

    private static func link(_ text: String, _ url: String?) -> String { CardText.link(text, url) }

    static func markdown(_ images: PublishedImages, title: String) -> Data {
        var s = "# Attribution — \(CardText.inline(title))\n\n"
        s += "Every image of this release, with its author, licence, source and the changes made to it. "
        s += "Machine-readable: `ATTRIBUTION.csv`.\n\n"
        s += "| image | keyword | author | licence | source | changes |\n| --- | --- | --- | --- | --- | --- |\n"
        for i in images.published {
            s += "| `\(i.image.sha.prefix(12))` | \(md(i.keyword)) | \(md(i.origin?.author ?? "unknown")) | \(link(i.terms.displayName, i.terms.url)) "
            s += "| \(link(i.origin?.source ?? "source", i.origin?.pageURL)) | \(md(modifications(i))) |\n"
        }
        s += "\n## Left out\n\n"
        let refused = images.refused
        if refused.isEmpty {
            s += "No image was left out for its licence.\n"
        } else {
            s += "These images were not published because their licence forbids this release (also in `ATTRIBUTION_EXCLUDED.csv`):\n\n"
            s += "| image | keyword | author | licence | source | reason |\n| --- | --- | --- | --- | --- | --- |\n"
            for i in refused {
                s += "| `\(i.image.sha.prefix(12))` | \(md(i.keyword)) | \(md(i.origin?.author ?? "unknown")) | \(link(i.terms.displayName, i.terms.url)) "
                s += "| \(link(i.origin?.source ?? "source", i.origin?.pageURL)) | \(md(i.refusal ?? "")) |\n"
            }
        }
        return Data(s.utf8)
    }
}
