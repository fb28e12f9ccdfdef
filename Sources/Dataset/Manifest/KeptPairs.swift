import GRDB

/// "Kept": an (image, keyword) pair every recorded filter decision of which passed — the one definition, as the
/// `kept_pairs` view (migration v4; since v7 it reads `pair_states`, which triggers keep equal to the least `pass`
/// of each pair's decisions). Query the view, never re-derive it.
public enum KeptPairs {
    /// Kept image hashes of one keyword, in hash order.
    public static func images(of keywordID: Int64, in db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT image_sha256 FROM kept_pairs WHERE keyword_id = ? ORDER BY image_sha256", arguments: [keywordID])
    }

    /// Every kept pair, ordered by keyword id then hash.
    public static func all(in db: Database) throws -> [KeywordImage] {
        try Row.fetchAll(db, sql: "SELECT image_sha256, keyword_id FROM kept_pairs ORDER BY keyword_id, image_sha256")
            .map { KeywordImage(keywordID: $0[1], sha256: $0[0]) }
    }

    /// The kept pairs of some keywords, ordered by keyword id then hash (the order of `all`, restricted).
    /// Reads only those keywords' decisions (`filter_decisions_by_keyword`).
    public static func pairs(of keywordIDs: [Int64], in db: Database) throws -> [KeywordImage] {
        guard !keywordIDs.isEmpty else { return [] }
        return try Row.fetchAll(db, sql: """
            SELECT image_sha256, keyword_id FROM kept_pairs WHERE keyword_id IN (\(placeholders(keywordIDs.count)))
             ORDER BY keyword_id, image_sha256
            """, arguments: StatementArguments(keywordIDs)).map { KeywordImage(keywordID: $0[1], sha256: $0[0]) }
    }

    /// How many pairs each keyword keeps (keywords that keep none are absent).
    public static func countsByKeyword(in db: Database) throws -> [Int64: Int] {
        var out: [Int64: Int] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT keyword_id, COUNT(*) FROM kept_pairs GROUP BY keyword_id")
        while let row = try rows.next() { out[row[0]] = row[1] }
        return out
    }

    /// `?, ?, …` for an `IN` list of `count` values.
    public static func placeholders(_ count: Int) -> String {
        Array(repeating: "?", count: count).joined(separator: ", ")
    }
}
