import Dataset
import Foundation
import GRDB

/// Loads the (image, keyword) pairs the filter decides on: every stored image reached by a successful
/// download of one of the keyword's candidates, with its probe facts and the candidates' URLs and metadata.
enum FilterSubjects {
    /// The pairs of the keywords in `keywords` (nil: every keyword), in keyword then image order.
    static func load(_ db: Database, root: URL, keywords: ClosedRange<Int64>? = nil) throws -> [FilterSubject] {
        let range = keywords ?? Int64.min...Int64.max
        let rows = try Row.fetchCursor(db, sql: """
            SELECT i.sha256, c.keyword_id, k.text AS keyword, i.path, i.bytes, i.format, i.width, i.height,
                   i.display_width, i.display_height, i.orientation, i.animated, i.frames, i.rights, i.created_at,
                   c.image_url, c.page_url, c.extra, c.rank
            FROM downloads d
            JOIN candidates c ON c.id = d.candidate_id
            JOIN keywords k ON k.id = c.keyword_id
            JOIN images i ON i.sha256 = d.image_sha256
            WHERE d.status = 'ok' AND c.keyword_id BETWEEN ? AND ?
            ORDER BY c.keyword_id, i.sha256, c.id
            """, arguments: [range.lowerBound, range.upperBound])
        var order: [KeywordImage] = []
        var subjects: [KeywordImage: FilterSubject] = [:]
        while let row = try rows.next() {
            let sha: String = row["sha256"]
            let keywordID: Int64 = row["keyword_id"]
            let key = KeywordImage(keywordID: keywordID, sha256: sha)
            var urls = [row["image_url"] as String?, row["page_url"] as String?].compactMap { $0 }
            var extra = JSONText.decode([String: JSONScalar].self, from: row["extra"])?.mapValues(\.text) ?? [:]
            var rank: Int = row["rank"] ?? 0
            if let existing = subjects[key] {
                rank = min(rank, existing.searchRank)
                urls = existing.urls + urls
                extra = existing.extra.merging(extra) { a, _ in a }
            } else {
                order.append(key)
            }
            let width: Int = row["width"] ?? 0
            let height: Int = row["height"] ?? 0
            let probe = ProbedImage(
                format: row["format"] ?? "unknown", width: width, height: height,
                displayWidth: row["display_width"] ?? width, displayHeight: row["display_height"] ?? height,
                orientation: row["orientation"] ?? 1, animated: (row["animated"] as Int? ?? 0) != 0,
                frames: row["frames"], rights: JSONText.decodeStringMap(row["rights"]))
            subjects[key] = FilterSubject(
                sha256: sha, keywordID: keywordID, keyword: row["keyword"],
                fileURL: root.appendingPathComponent(row["path"] as String), bytes: row["bytes"], probe: probe,
                urls: urls, extra: extra, searchRank: rank)
        }
        return order.compactMap { subjects[$0] }
    }
}

/// A JSON scalar of candidate metadata (LAION columns are numbers, captions are strings).
struct JSONScalar: Decodable {
    let text: String

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { text = s }
        else if let i = try? c.decode(Int.self) { text = String(i) }
        else if let d = try? c.decode(Double.self) { text = String(d) }
        else if let b = try? c.decode(Bool.self) { text = String(b) }
        else { text = "" }
    }
}
