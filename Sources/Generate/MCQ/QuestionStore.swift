import Dataset
import Foundation
import GRDB

/// Reads and writes `questions` rows.
public enum QuestionStore {
    /// Inserts or replaces a question with its status (`accepted`, `rejected`, `failed`) and reason. `placed`:
    /// whether its answer letter is final (`placed_at` set); questions being created are saved unplaced and placed
    /// once, by `MCQPipeline.finalize`, over the whole set created with them.
    public static func save(_ q: MCQuestion, status: String = "accepted", reason: String? = nil, requestKey: String? = nil,
                            placed: Bool = true, in db: Database) throws {
        let now = Date().timeIntervalSince1970
        try db.execute(sql: """
            INSERT INTO questions (id, keyword_id, image_sha256, type, question, options, answer, aspect, rationale, category,
                split, status, reason, origin, model, template_sha256, request_key, extra, created_at, placed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET keyword_id = excluded.keyword_id, image_sha256 = excluded.image_sha256,
                type = excluded.type, question = excluded.question, options = excluded.options, answer = excluded.answer,
                aspect = excluded.aspect, rationale = excluded.rationale, category = excluded.category, split = excluded.split,
                status = excluded.status, reason = excluded.reason, origin = excluded.origin, model = excluded.model,
                template_sha256 = excluded.template_sha256, request_key = excluded.request_key, extra = excluded.extra,
                created_at = excluded.created_at, placed_at = excluded.placed_at, leaky = NULL
            """, arguments: [q.id, q.keywordID, q.imageSHA256, q.type, q.question, JSONText.encodeObject(q.options), q.answer,
                             q.aspect, q.rationale, q.category, q.split, status, reason, q.origin, q.model, q.templateSHA256,
                             requestKey, q.extra, now, placed && status == "accepted" ? now : nil])
    }

    /// Fixes the answer letter of a question being created: its options and answer, and `placed_at`.
    public static func place(_ q: MCQuestion, at time: Double, in db: Database) throws {
        try db.execute(sql: "UPDATE questions SET options = ?, answer = ?, placed_at = ? WHERE id = ?",
                       arguments: [JSONText.encodeObject(q.options), q.answer, time, q.id])
    }

    /// Marks a question being created as a duplicate of a stored one (rejected; nothing else changes).
    public static func reject(id: String, reason: String, in db: Database) throws {
        try db.execute(sql: "UPDATE questions SET status = 'rejected', reason = ? WHERE id = ?", arguments: [reason, id])
    }

    /// Every stored question of one type (any status), id → reason ('' when none): what must not be created again.
    public static func reasons(type: Int, in db: Database) throws -> [String: String] {
        try Dictionary(Row.fetchAll(db, sql: "SELECT id, COALESCE(reason, '') AS reason FROM questions WHERE type = ?", arguments: [type])
            .map { ($0["id"] as String, $0["reason"] as String) }, uniquingKeysWith: { a, _ in a })
    }

    /// Accepted generated questions whose answer letter is not placed yet (created since the last finalize).
    public static func unplacedIDs(in db: Database) throws -> Set<String> {
        try Set(String.fetchAll(db, sql: "SELECT id FROM questions WHERE status = 'accepted' AND origin = 'generated' AND placed_at IS NULL"))
    }

    /// Accepted questions, in id order (optionally of one origin and split).
    public static func accepted(origin: String? = nil, split: String? = nil, in db: Database) throws -> [MCQuestion] {
        var sql = "SELECT q.*, k.text AS keyword FROM questions q LEFT JOIN keywords k ON k.id = q.keyword_id WHERE q.status = 'accepted'"
        var arguments: StatementArguments = []
        if let origin { sql += " AND q.origin = ?"; arguments += [origin] }
        if let split { sql += " AND q.split = ?"; arguments += [split] }
        sql += " ORDER BY q.rowid"
        return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            let options = (try? JSONSerialization.jsonObject(with: Data((row["options"] as String).utf8))) as? [String] ?? []
            return MCQuestion(id: row["id"], keywordID: row["keyword_id"], keyword: row["keyword"], imageSHA256: row["image_sha256"],
                              type: row["type"], question: row["question"], options: options, answer: row["answer"],
                              aspect: row["aspect"], rationale: row["rationale"], category: row["category"], split: row["split"],
                              origin: row["origin"], model: row["model"], templateSHA256: row["template_sha256"], extra: row["extra"])
        }
    }
}
