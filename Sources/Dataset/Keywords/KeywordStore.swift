import Foundation
import GRDB

/// Writes keywords into the manifest and reads them back.
public enum KeywordStore {
    /// A keyword as stored in the manifest.
    public struct Stored: Sendable, Equatable {
        public let id: Int64
        public let entry: KeywordEntry

        public init(id: Int64, entry: KeywordEntry) {
            self.id = id
            self.entry = entry
        }

        /// The text sent to sources: the query override when there is one.
        public var searchQuery: String { entry.query ?? entry.text }
    }

    /// Inserts the keywords in one transaction; an existing keyword is merged, never duplicated.
    /// Returns how many were new.
    @discardableResult
    public static func insert(_ keywords: [KeywordEntry], into manifest: Manifest) throws -> Int {
        try manifest.write { db in try insert(keywords, in: db) }
    }

    /// `insert(_:into:)` inside a transaction the caller holds (a list's batch of rows with their keywords).
    @discardableResult
    public static func insert(_ keywords: [KeywordEntry], in db: Database) throws -> Int {
        var added = 0
        let now = Date().timeIntervalSince1970
        for keyword in keywords {
            if let row = try Row.fetchOne(db, sql: "SELECT id, category, language, query, extra FROM keywords WHERE text = ?",
                                          arguments: [keyword.text]) {
                var merged = KeywordEntry(text: keyword.text, category: row["category"], language: row["language"],
                                          query: row["query"], extra: JSONText.decodeStringMap(row["extra"]))
                merged.merge(keyword)
                try db.execute(sql: "UPDATE keywords SET category = ?, language = ?, query = ?, extra = ? WHERE id = ?",
                               arguments: [merged.category, merged.language, merged.query,
                                           JSONText.encode(merged.extra), row["id"] as Int64])
            } else {
                try db.execute(sql: "INSERT INTO keywords(text, category, language, query, extra, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                               arguments: [keyword.text, keyword.category, keyword.language, keyword.query,
                                           JSONText.encode(keyword.extra), now])
                added += 1
            }
        }
        return added
    }

    public static func all(in db: Database) throws -> [Stored] {
        try Row.fetchAll(db, sql: "SELECT id, text, category, language, query, extra FROM keywords ORDER BY id").map(stored)
    }

    public static func all(in manifest: Manifest) throws -> [Stored] {
        try manifest.read { db in try all(in: db) }
    }

    public static func count(in manifest: Manifest) throws -> Int {
        try manifest.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM keywords") ?? 0 }
    }

    static func stored(_ row: Row) -> Stored {
        Stored(id: row["id"], entry: KeywordEntry(text: row["text"], category: row["category"], language: row["language"],
                                                  query: row["query"], extra: JSONText.decodeStringMap(row["extra"])))
    }
}
