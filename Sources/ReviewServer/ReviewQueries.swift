import Dataset
import Foundation
import GRDB

/// The review pages' reads: paged, with per-keyword counts from indexes, so a workspace of 100k images answers
/// in milliseconds. An image "of a keyword" is any pair with filter decisions or a human decision.
public enum ReviewQueries {
    /// One row of the keyword list.
    public struct KeywordRow: Sendable, Equatable {
        public var id: Int64
        public var text: String
        public var category: String
        public var candidates: Int
        public var images: Int
        public var kept: Int
        public var dropped: Int
        public var reviewed: Int
        /// Why the keyword needs a look (empty: it does not).
        public var needsReview: [String]
    }

    /// The keyword list's sort keys.
    public enum Sort: String, Sendable, CaseIterable {
        /// keyword text ↑, candidates ↓, kept ↑, dropped ↓, share reviewed ↑ (then by text).
        case keyword, candidates, kept, dropped, reviewed
    }

    /// A keyword with fewer kept images than this needs review.
    public static let fewKept = 3

    static let keywordSelect = """
        SELECT k.id, k.text, COALESCE(k.category, '') AS category,
               (SELECT COUNT(*) FROM candidates c WHERE c.keyword_id = k.id) AS candidates,
               (SELECT COUNT(*) FROM pair_states s WHERE s.keyword_id = k.id)
                 + (SELECT COUNT(*) FROM human_pairs h WHERE h.keyword_id = k.id
                       AND NOT EXISTS (SELECT 1 FROM pair_states s WHERE s.keyword_id = k.id AND s.image_sha256 = h.image_sha256)) AS images,
               (SELECT COUNT(*) FROM kept_pairs p WHERE p.keyword_id = k.id) AS kept,
               (SELECT COUNT(*) FROM pair_states s WHERE s.keyword_id = k.id AND s.min_pass = 0) AS dropped,
               (SELECT COUNT(*) FROM human_pairs h WHERE h.keyword_id = k.id) AS reviewed
          FROM keywords k
        """

    /// A page of keywords, sorted, optionally of one category and only those that need review. The counts are
    /// grouped once per table over its keyword index (not a subquery per keyword), then filtered, sorted and paged.
    public static func keywords(sort: Sort, category: String?, needsReview: Bool, limit: Int, offset: Int,
                                in db: Database) throws -> (rows: [KeywordRow], total: Int) {
        let confused = Set(try RelevanceConfusions.load(db).likelyLabelErrors.map(\.keyword))
        func grouped(_ sql: String, _ apply: (inout KeywordRow, Row) -> Void, into rows: inout [Int64: KeywordRow]) throws {
            let cursor = try Row.fetchCursor(db, sql: sql)
            while let row = try cursor.next() {
                let id: Int64 = row[0]
                if rows[id] != nil { apply(&rows[id]!, row) }
            }
        }
        var rows: [Int64: KeywordRow] = [:]
        var categoryArguments: StatementArguments = []
        var where_ = ""
        if let category, !category.isEmpty { where_ = " WHERE category = ?"; categoryArguments = [category] }
        for row in try Row.fetchAll(db, sql: "SELECT id, text, COALESCE(category, '') FROM keywords\(where_)", arguments: categoryArguments) {
            rows[row[0]] = KeywordRow(id: row[0], text: row[1], category: row[2], candidates: 0, images: 0, kept: 0, dropped: 0,
                                      reviewed: 0, needsReview: [])
        }
        try grouped("SELECT keyword_id, COUNT(*) FROM candidates GROUP BY keyword_id", { $0.candidates = $1[1] }, into: &rows)
        // Automated: every decided pair, and its kept ones (min_pass = 1) and dropped ones (min_pass = 0).
        try grouped("SELECT keyword_id, COUNT(*), TOTAL(min_pass = 1), TOTAL(min_pass = 0) FROM pair_states GROUP BY keyword_id", {
            $0.images = $1[1]; $0.kept = Int($1[2] as Double); $0.dropped = Int($1[3] as Double)
        }, into: &rows)
        // Human decisions replace the automated ones of their pairs (as the kept_pairs view does).
        try grouped("""
            SELECT h.keyword_id, COUNT(*), TOTAL(h.decision = 'accept'), TOTAL(s.min_pass = 1), TOTAL(s.min_pass IS NULL)
              FROM human_pairs h LEFT JOIN pair_states s ON s.keyword_id = h.keyword_id AND s.image_sha256 = h.image_sha256
             GROUP BY h.keyword_id
            """, {
            $0.reviewed = $1[1]
            $0.kept += Int($1[2] as Double) - Int($1[3] as Double)
            $0.images += Int($1[4] as Double)
        }, into: &rows)
        var list = Array(rows.values)
        for i in list.indices {
            if list[i].kept < fewKept { list[i].needsReview.append("few kept") }
            if confused.contains(list[i].text) { list[i].needsReview.append("judge confusions") }
            if list[i].reviewed < list[i].images && list[i].dropped > 0 { list[i].needsReview.append("drops to check") }
        }
        if needsReview { list.removeAll { $0.needsReview.isEmpty } }
        list.sort { a, b in
            func ratio(_ r: KeywordRow) -> Double { Double(r.reviewed) / Double(max(r.images, 1)) }
            switch sort {
            case .keyword: return a.text < b.text
            case .candidates: return a.candidates != b.candidates ? a.candidates > b.candidates : a.text < b.text
            case .kept: return a.kept != b.kept ? a.kept < b.kept : a.text < b.text
            case .dropped: return a.dropped != b.dropped ? a.dropped > b.dropped : a.text < b.text
            case .reviewed: return ratio(a) != ratio(b) ? ratio(a) < ratio(b) : a.text < b.text
            }
        }
        let page = offset < list.count ? Array(list[offset..<min(list.count, offset + limit)]) : []
        return (page, list.count)
    }

    /// One keyword's row (nil: no such keyword).
    public static func keyword(_ text: String, in db: Database) throws -> KeywordRow? {
        try Row.fetchOne(db, sql: "SELECT * FROM (\(keywordSelect)) WHERE text = ?", arguments: [text]).map { row in
            KeywordRow(id: row["id"], text: row["text"], category: row["category"], candidates: row["candidates"],
                       images: row["images"], kept: row["kept"], dropped: row["dropped"], reviewed: row["reviewed"], needsReview: [])
        }
    }

    /// Reviewed and total (image, keyword) pairs over the workspace.
    public static func progress(in db: Database) throws -> (reviewed: Int, total: Int) {
        let reviewed = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM human_pairs") ?? 0
        let total = try Int.fetchOne(db, sql: """
            SELECT (SELECT COUNT(*) FROM pair_states)
                 + (SELECT COUNT(*) FROM human_pairs h WHERE NOT EXISTS
                      (SELECT 1 FROM pair_states s WHERE s.keyword_id = h.keyword_id AND s.image_sha256 = h.image_sha256))
            """) ?? 0
        return (reviewed, total)
    }

    /// The first keyword (by text) with an image no human decided, and that image's page offset.
    public static func nextUnreviewed(in db: Database) throws -> String? {
        try String.fetchOne(db, sql: """
            SELECT k.text FROM keywords k WHERE EXISTS (
                SELECT 1 FROM pair_states s WHERE s.keyword_id = k.id
                   AND NOT EXISTS (SELECT 1 FROM human_pairs h WHERE h.keyword_id = s.keyword_id AND h.image_sha256 = s.image_sha256))
             ORDER BY k.text LIMIT 1
            """)
    }

    /// Keyword texts containing `query` (type-ahead), shortest first.
    public static func keywordTexts(matching query: String, limit: Int, in db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT text FROM keywords WHERE instr(lower(text), lower(?)) > 0 ORDER BY length(text), text LIMIT ?",
                            arguments: [query, limit])
    }

    /// One image of a keyword's page.
    public struct ImageRow: Sendable, Equatable {
        public var sha256: String
        public var width: Int?
        public var height: Int?
        public var format: String?
        /// `kept` or `dropped` by the automated decisions (`undecided` when none).
        public var automated: String
        /// The human decision (`accept`, `reject`) or nil.
        public var human: String?
        /// Failed rules with their reasons, and every judge's verdict (`rule: reason`).
        public var decisions: [String]
        public var source: String?
        public var license: String?
        public var author: String?
        public var pageURL: String?
    }

    /// A page of a keyword's images (by hash; `onlyUnreviewed`: those no human decided).
    public static func images(of keywordID: Int64, onlyUnreviewed: Bool, limit: Int, offset: Int, in db: Database) throws -> [ImageRow] {
        let unreviewed = onlyUnreviewed ? " WHERE h.decision IS NULL" : ""
        let rows = try Row.fetchAll(db, sql: """
            SELECT x.sha, i.display_width, i.display_height, i.width, i.height, i.format, s.min_pass, h.decision
              FROM (SELECT image_sha256 AS sha FROM pair_states WHERE keyword_id = ?1
                    UNION SELECT image_sha256 FROM human_pairs WHERE keyword_id = ?1) x
              JOIN images i ON i.sha256 = x.sha
              LEFT JOIN pair_states s ON s.keyword_id = ?1 AND s.image_sha256 = x.sha
              LEFT JOIN human_pairs h ON h.keyword_id = ?1 AND h.image_sha256 = x.sha\(unreviewed)
             ORDER BY x.sha LIMIT ?2 OFFSET ?3
            """, arguments: [keywordID, limit, offset])
        var out = rows.map { row -> ImageRow in
            let pass: Int? = row["min_pass"]
            return ImageRow(sha256: row["sha"], width: row["display_width"] ?? row["width"], height: row["display_height"] ?? row["height"],
                            format: row["format"], automated: pass == 1 ? "kept" : pass == 0 ? "dropped" : "undecided",
                            human: row["decision"], decisions: [])
        }
        guard !out.isEmpty else { return out }
        let shas = out.map(\.sha256)
        let marks = KeptPairs.placeholders(shas.count)
        var decisions: [String: [String]] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT image_sha256, rule, pass, reason FROM filter_decisions
             WHERE keyword_id = ? AND image_sha256 IN (\(marks)) AND (pass = 0 OR rule LIKE '%relevance%' OR rule LIKE '%watermark%' OR rule LIKE '%clip%')
             ORDER BY rule
            """, arguments: [keywordID] + StatementArguments(shas)) {
            let pass: Int = row["pass"]
            decisions[row["image_sha256"], default: []].append("\(row["rule"] as String)\(pass == 1 ? " ✓" : " ✗"): \(row["reason"] as String? ?? "")")
        }
        var origins: [String: Row] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT dl.image_sha256 AS sha, c.source, c.license, c.author, c.page_url FROM downloads dl JOIN candidates c ON c.id = dl.candidate_id
             WHERE dl.status = 'ok' AND dl.image_sha256 IN (\(marks)) ORDER BY (c.keyword_id = ?) DESC, c.rank, c.id
            """, arguments: StatementArguments(shas) + [keywordID]) where origins[row["sha"]] == nil {
            origins[row["sha"]] = row
        }
        for i in out.indices {
            out[i].decisions = decisions[out[i].sha256] ?? []
            if let origin = origins[out[i].sha256] {
                out[i].source = origin["source"]
                out[i].license = origin["license"]
                out[i].author = origin["author"]
                out[i].pageURL = origin["page_url"]
            }
        }
        return out
    }

    /// One description of a keyword's page.
    public struct DescriptionRow: Sendable, Equatable {
        public var id: Int64
        public var imageSHA256: String
        public var aspect: String
        public var mode: String
        public var language: String
        public var model: String
        public var status: String
        public var reason: String?
        public var text: String
        public var human: String?
    }

    public static func descriptions(of keywordID: Int64, limit: Int, offset: Int, in db: Database) throws -> [DescriptionRow] {
        try Row.fetchAll(db, sql: """
            SELECT d.id, d.image_sha256, d.aspect, d.mode, d.language, d.model, d.status, d.reason, COALESCE(d.text, '') AS text, h.status AS human
              FROM descriptions d LEFT JOIN human_texts h ON h.subject = 'description' AND h.item = CAST(d.id AS TEXT)
             WHERE d.keyword_id = ? ORDER BY d.aspect, d.mode, d.image_sha256, d.id LIMIT ? OFFSET ?
            """, arguments: [keywordID, limit, offset]).map {
            DescriptionRow(id: $0["id"], imageSHA256: $0["image_sha256"], aspect: $0["aspect"], mode: $0["mode"], language: $0["language"],
                           model: $0["model"], status: $0["status"], reason: $0["reason"], text: $0["text"], human: $0["human"])
        }
    }

    /// One question of a keyword's page.
    public struct QuestionRow: Sendable, Equatable {
        public var id: String
        public var type: Int
        public var question: String
        public var options: [String]
        public var answer: Int
        public var split: String
        public var status: String
        public var reason: String?
        public var origin: String
        public var verdict: String?
        public var human: String?
    }

    public static func questions(of keywordID: Int64, limit: Int, offset: Int, in db: Database) throws -> [QuestionRow] {
        try Row.fetchAll(db, sql: """
            SELECT q.id, q.type, q.question, q.options, q.answer, q.split, q.status, q.reason, q.origin, j.verdict, h.status AS human
              FROM questions q
              LEFT JOIN judgements j ON j.judge = 'answer_key' AND j.subject = q.id
              LEFT JOIN human_texts h ON h.subject = 'question' AND h.item = q.id
             WHERE q.keyword_id = ? ORDER BY q.rowid LIMIT ? OFFSET ?
            """, arguments: [keywordID, limit, offset]).map {
            let options = (try? JSONSerialization.jsonObject(with: Data(($0["options"] as String).utf8))) as? [String] ?? []
            return QuestionRow(id: $0["id"], type: $0["type"], question: $0["question"], options: options, answer: $0["answer"],
                               split: $0["split"], status: $0["status"], reason: $0["reason"], origin: $0["origin"],
                               verdict: $0["verdict"], human: $0["human"])
        }
    }
}
