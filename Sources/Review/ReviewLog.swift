import Dataset
import Foundation
import GRDB

/// The `reviews` log: one row per action, with what it changed (`before`, enough to undo it) and what it decided
/// (`after`, with the item's stable key for export).
enum ReviewLog {
    /// An action being applied: it changes the current decisions through `setPair` / `setText`, which remember
    /// what was there, then `insert` records it.
    struct Entry {
        var subject: String
        var action: String
        var keyword: String
        var imageSHA256: String
        var item: String
        /// The item's stable key (keyword text, image hash, …), not row ids: what export writes and import finds.
        var key: [String: Any] = [:]
        var after: [String: Any] = [:]
        private var pairs: [[String: Any]] = []
        private var texts: [[String: Any]] = []
        private var created: [[String: Any]] = []

        init(subject: String, action: String, keyword: String, imageSHA256: String, item: String) {
            self.subject = subject
            self.action = action
            self.keyword = keyword
            self.imageSHA256 = imageSHA256
            self.item = item
        }

        /// Sets the human decision of an (image, keyword) pair, remembering the previous one.
        mutating func setPair(sha256: String, keywordID: Int64, to decision: String, in db: Database) throws {
            let previous = try HumanDecision.pair(sha256: sha256, keywordID: keywordID, in: db)
            pairs.append(["sha256": sha256, "keyword_id": keywordID, "decision": previous ?? NSNull()])
            try db.execute(sql: """
                INSERT INTO human_pairs (image_sha256, keyword_id, decision, review_id) VALUES (?, ?, ?, 0)
                ON CONFLICT (image_sha256, keyword_id) DO UPDATE SET decision = excluded.decision
                """, arguments: [sha256, keywordID, decision])
        }

        /// Sets the human status of a description or question, remembering the previous human status and the
        /// row's own status and reason. `created`: the row is a new version this action made (undo deletes it).
        mutating func setText(subject: String, item: String, to status: String, in db: Database, created isNew: Bool = false) throws {
            let table = subject == "description" ? "descriptions" : "questions"
            let human = try String.fetchOne(db, sql: "SELECT status FROM human_texts WHERE subject = ? AND item = ?", arguments: [subject, item])
            let row = try Row.fetchOne(db, sql: "SELECT status, reason FROM \(table) WHERE id = ?", arguments: [item])
            if isNew {
                created.append(["subject": subject, "item": item])
            } else {
                texts.append(["subject": subject, "item": item, "human": human ?? NSNull(),
                              "status": (row?["status"] as String?) ?? NSNull(), "reason": (row?["reason"] as String?) ?? NSNull()])
            }
            try db.execute(sql: """
                INSERT INTO human_texts (subject, item, status, review_id) VALUES (?, ?, ?, 0)
                ON CONFLICT (subject, item) DO UPDATE SET status = excluded.status
                """, arguments: [subject, item, status])
            try db.execute(sql: "UPDATE \(table) SET status = ?, reason = ? WHERE id = ?", arguments: [status, HumanDecision.reason, item])
        }

        /// Records the action; the decisions it set point at it. Returns its id. `batch`: the first review id of
        /// the action this item belongs to (nil: this is the first; set to its id), which undo reverts as one.
        func insert(reviewer: String, at time: Double, batch: inout Int64?, in db: Database) throws -> Int64 {
            var after = self.after
            after["key"] = key
            let before: [String: Any] = ["pairs": pairs, "texts": texts, "created": created]
            try db.execute(sql: """
                INSERT INTO reviews (subject, action, keyword, image_sha256, item, before, after, reviewer, reviewed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [subject, action, keyword, imageSHA256, item, JSONText.encodeObject(before),
                                 JSONText.encodeObject(after), reviewer, time])
            let id = db.lastInsertedRowID
            if batch == nil { batch = id }
            try db.execute(sql: "UPDATE reviews SET batch = ? WHERE id = ?", arguments: [batch, id])
            try db.execute(sql: "UPDATE human_pairs SET review_id = ? WHERE review_id = 0", arguments: [id])
            try db.execute(sql: "UPDATE human_texts SET review_id = ? WHERE review_id = 0", arguments: [id])
            return id
        }
    }

    /// Undoes the newest action in force, every review of its batch (newest first): puts back each pair's and
    /// text's previous decision, deletes the versions it created, and marks it undone. Returns the newest id.
    static func undoLast(at time: Double, in db: Database) throws -> Int64? {
        guard let newest = try Row.fetchOne(db, sql: "SELECT id, COALESCE(batch, id) AS batch FROM reviews WHERE undone_at IS NULL ORDER BY id DESC LIMIT 1") else {
            return nil
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT id, before FROM reviews WHERE undone_at IS NULL AND COALESCE(batch, id) = ? ORDER BY id DESC
            """, arguments: [newest["batch"] as Int64]) {
            try undo(row, at: time, in: db)
        }
        return newest["id"]
    }

    static func undo(_ row: Row, at time: Double, in db: Database) throws {
        let id: Int64 = row["id"]
        let before = (try? JSONSerialization.jsonObject(with: Data((row["before"] as String).utf8))) as? [String: Any] ?? [:]
        for pair in (before["pairs"] as? [[String: Any]] ?? []).reversed() {
            guard let sha = pair["sha256"] as? String, let kid = (pair["keyword_id"] as? NSNumber)?.int64Value else { continue }
            if let decision = pair["decision"] as? String {
                try db.execute(sql: "UPDATE human_pairs SET decision = ? WHERE image_sha256 = ? AND keyword_id = ?", arguments: [decision, sha, kid])
            } else {
                try db.execute(sql: "DELETE FROM human_pairs WHERE image_sha256 = ? AND keyword_id = ?", arguments: [sha, kid])
            }
        }
        for made in before["created"] as? [[String: Any]] ?? [] {
            guard let subject = made["subject"] as? String, let item = made["item"] as? String else { continue }
            try db.execute(sql: "DELETE FROM human_texts WHERE subject = ? AND item = ?", arguments: [subject, item])
            try db.execute(sql: "DELETE FROM \(subject == "description" ? "descriptions" : "questions") WHERE id = ?", arguments: [item])
        }
        for text in (before["texts"] as? [[String: Any]] ?? []).reversed() {
            guard let subject = text["subject"] as? String, let item = text["item"] as? String else { continue }
            let table = subject == "description" ? "descriptions" : "questions"
            try db.execute(sql: "DELETE FROM human_texts WHERE subject = ? AND item = ?", arguments: [subject, item])
            if let status = text["status"] as? String {
                try db.execute(sql: "UPDATE \(table) SET status = ?, reason = ? WHERE id = ?",
                               arguments: [status, text["reason"] as? String, item])
            }
            if let human = text["human"] as? String {
                // The earlier human decision is back in force (its review is the newest one in force for this item).
                let earlier = try Int64.fetchOne(db, sql: """
                    SELECT id FROM reviews WHERE subject = ? AND item = ? AND undone_at IS NULL AND id < ? ORDER BY id DESC LIMIT 1
                    """, arguments: [subject, item, id]) ?? 0
                try db.execute(sql: "INSERT INTO human_texts (subject, item, status, review_id) VALUES (?, ?, ?, ?)",
                               arguments: [subject, item, human, earlier])
            }
        }
        try db.execute(sql: "UPDATE reviews SET undone_at = ? WHERE id = ?", arguments: [time, id])
    }
}
