import Foundation
import GRDB

/// What the relevance judge took each keyword's images for, counted from its stored decisions: the confusion table
/// of `status --json` (`relevance.confusions`), the report and `dsbuild check relevance_confusions`.
///
/// The `relevance` filter rule stores the option the judge chose, verbatim, as its decision's `value`: the keyword
/// itself (kept, or dropped for low confidence), another keyword of the dataset (a sibling it was taken for) or
/// `RelevanceConfusions.noneOption`. Undecided pairs (the judge failed) are not counted, nor drops that are no
/// choice of the judge (an image that cannot be shown, `judge=unreadable_image`; a keyword named like the none
/// option, `keyword=none_option`): only a value that is a keyword of the dataset or the none option is a verdict.
public struct RelevanceConfusions: Sendable, Equatable {
    /// The rule's name in `filter_decisions` (declared here, below Filter, so status and check can count it).
    public static let rule = "relevance"
    /// The option that says the image shows none of the keywords offered.
    public static let noneOption = "None of these / not a photograph of such a subject"

    /// One keyword's row of the table.
    public struct Row: Sendable, Equatable {
        public var keyword: String
        /// Images the judge gave a verdict on.
        public var judged = 0
        /// Taken for the keyword with enough confidence: kept by the rule.
        public var shown = 0
        /// Taken for the keyword, but with too little confidence.
        public var lowConfidence = 0
        /// Taken for none of the options.
        public var none = 0
        /// Taken for another keyword: sibling text → images.
        public var takenFor: [String: Int] = [:]

        /// The sibling most of the judged images were taken for, when it is more than half of them: the keyword's
        /// label, its search query or the keyword list is likely wrong (two names for one thing, a swapped label).
        public var dominantSibling: (keyword: String, images: Int)? {
            guard let top = takenFor.max(by: { $0.value != $1.value ? $0.value < $1.value : $0.key > $1.key }),
                  judged > 0, top.value * 2 > judged else { return nil }
            return (top.key, top.value)
        }

        public static func == (a: Row, b: Row) -> Bool {
            a.keyword == b.keyword && a.judged == b.judged && a.shown == b.shown && a.lowConfidence == b.lowConfidence
                && a.none == b.none && a.takenFor == b.takenFor
        }
    }

    /// Keyword text → its row; only keywords with at least one verdict.
    public var rows: [String: Row] = [:]

    public init() {}

    public var isEmpty: Bool { rows.isEmpty }

    /// Counts the stored relevance verdicts, one grouped query.
    public static func load(_ db: Database) throws -> RelevanceConfusions {
        var table = RelevanceConfusions()
        let sql = """
            SELECT k.text AS keyword, d.value AS choice, d.pass AS pass, COUNT(*) AS n
              FROM filter_decisions d JOIN keywords k ON k.id = d.keyword_id
             WHERE d.rule = ? AND d.pass >= 0 AND (d.value = ? OR d.value IN (SELECT text FROM keywords))
             GROUP BY k.text, d.value, d.pass
            """
        for row in try GRDB.Row.fetchAll(db, sql: sql, arguments: [rule, noneOption]) {
            let keyword: String = row["keyword"]
            let choice: String = row["choice"] ?? ""
            let (pass, n): (Int, Int) = (row["pass"], row["n"])
            var entry = table.rows[keyword] ?? Row(keyword: keyword)
            entry.judged += n
            if choice == keyword {
                if pass == 1 { entry.shown += n } else { entry.lowConfidence += n }
            } else if choice == noneOption {
                entry.none += n
            } else {
                entry.takenFor[choice, default: 0] += n
            }
            table.rows[keyword] = entry
        }
        return table
    }

    /// Keywords whose judged images were mostly taken for one sibling, by keyword text.
    public var likelyLabelErrors: [(keyword: String, sibling: String, images: Int, judged: Int)] {
        rows.values.compactMap { row in row.dominantSibling.map { (row.keyword, $0.keyword, $0.images, row.judged) } }
            .sorted { $0.keyword < $1.keyword }
    }

    /// `{"<keyword>": {"judged", "shown", "low_confidence", "none", "taken_for": {"<sibling>": n}}}`.
    public var json: [String: Any] {
        rows.mapValues { row in
            ["judged": row.judged, "shown": row.shown, "low_confidence": row.lowConfidence, "none": row.none,
             "taken_for": row.takenFor] as [String: Any]
        }
    }
}
