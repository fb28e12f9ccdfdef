import GRDB

/// "Kept": an (image, keyword) pair every recorded filter decision of which passed — the one definition, as the
/// `kept_pairs` view (migration v4). Query the view, never re-derive it.
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
}
