import Dataset
import GRDB

/// The filter's unit of paging: runs of consecutive keyword ids whose candidates add up to about a page, so
/// the pairs, decisions and hashes of one page are all a step holds, however large the manifest is. A keyword
/// is never split across pages (duplicate grouping needs all of a keyword's images at once).
enum KeywordPages {
    /// About how many candidates a page holds (a keyword with more is a page of its own).
    static let candidatesPerPage = 2_000

    /// The keyword ids of the page after `cursor` (nil: the first), and whether another page follows; nil when
    /// no keyword after `cursor` has candidates.
    static func next(_ db: Database, after cursor: Int64?, limit: Int = candidatesPerPage) throws -> (ids: ClosedRange<Int64>, more: Bool)? {
        let rows = try Row.fetchCursor(db, sql: """
            SELECT keyword_id, COUNT(*) AS n FROM candidates WHERE keyword_id > ? GROUP BY keyword_id ORDER BY keyword_id
            """, arguments: [cursor ?? Int64.min])
        var first: Int64?
        var last: Int64 = 0
        var total = 0
        while let row = try rows.next() {
            let id: Int64 = row["keyword_id"]
            if first != nil && total >= limit { return (first!...last, true) }
            if first == nil { first = id }
            last = id
            total += row["n"] as Int
        }
        return first.map { ($0...last, false) }
    }
}
