import Dataset
import Foundation
import GRDB

/// Reads and writes `questions` rows, through the one record type (`QuestionRow`).
public enum QuestionStore {
    /// Inserts or replaces a question with its status (`accepted`, `rejected`, `failed`) and reason; a replaced row
    /// is unchecked again (`leaky` cleared). `placed`: whether its answer letter is final (`placed_at` set, for an
    /// accepted question); questions being created are saved unplaced and placed once, by `MCQPipeline.finalize`,
    /// over the whole set created with them.
    public static func save(_ q: Question, status: String = "accepted", reason: String? = nil, requestKey: String? = nil,
                            placed: Bool = true, in db: Database) throws {
        let now = Date().timeIntervalSince1970
        try QuestionRow(question: q, status: status, reason: reason, requestKey: requestKey, createdAt: now,
                        placedAt: placed && status == "accepted" ? now : nil).upsert(db)
    }

    /// Fixes the answer letter of a question being created: its options and answer, and `placed_at`.
    public static func place(_ q: Question, at time: Double, in db: Database) throws {
        typealias C = QuestionRow.Columns
        try QuestionRow.filter(key: q.id).updateAll(db, C.options.set(to: JSONText.encodeObject(q.options)), C.answer.set(to: q.answer),
                                                    C.placedAt.set(to: time))
    }

    /// Marks a question being created as a duplicate of a stored one (rejected; nothing else changes).
    public static func reject(id: String, reason: String, in db: Database) throws {
        typealias C = QuestionRow.Columns
        try QuestionRow.filter(key: id).updateAll(db, C.status.set(to: "rejected"), C.reason.set(to: reason))
    }

    /// Every stored question of one type (any status), id → reason ('' when none): what must not be created again.
    public static func reasons(type: Int, in db: Database) throws -> [String: String] {
        try Dictionary(Row.fetchAll(db, sql: "SELECT id, COALESCE(reason, '') AS reason FROM questions WHERE type = ?", arguments: [type])
            .map { ($0["id"] as String, $0["reason"] as String) }, uniquingKeysWith: { a, _ in a })
    }

    /// Deletes the accepted generated questions of `type` whose answer letter is not placed yet: what an
    /// interrupted run wrote of a set that must be balanced whole. Their requests are cached, so the next run
    /// writes them again at no cost and places them with the rest of their set. Returns how many were deleted.
    @discardableResult
    public static func deleteUnplaced(type: Int, in db: Database) throws -> Int {
        try db.execute(sql: "DELETE FROM questions WHERE type = ? AND status = 'accepted' AND origin = 'generated' AND placed_at IS NULL",
                       arguments: [type])
        return db.changesCount
    }

    /// Accepted generated questions whose answer letter is not placed yet (created since the last finalize).
    public static func unplacedIDs(in db: Database) throws -> Set<String> {
        try Set(String.fetchAll(db, sql: "SELECT id FROM questions WHERE status = 'accepted' AND origin = 'generated' AND placed_at IS NULL"))
    }

    /// Generated questions whose answer letter is placed and that are accepted or disputed, in the order they were
    /// first stored, with their keyword's text: what the answer-key verifier judges (`AnswerKeyStage`).
    public static func judgeable(in db: Database) throws -> [Question] {
        try QuestionRow.fetchAll(db, sql: """
            SELECT q.*, k.text AS keyword FROM questions q LEFT JOIN keywords k ON k.id = q.keyword_id
             WHERE q.status IN (?, ?) AND q.origin = 'generated' AND q.placed_at IS NOT NULL ORDER BY q.rowid
            """, arguments: [QuestionRow.Status.accepted, QuestionRow.Status.disputed]).map(\.question)
    }

    /// Accepted questions, in the order they were first stored (optionally of one origin and split; with
    /// `includingDisputed`, disputed ones too), with their keyword's text.
    public static func accepted(origin: String? = nil, split: String? = nil, includingDisputed: Bool = false,
                                in db: Database) throws -> [Question] {
        var sql = "SELECT q.*, k.text AS keyword FROM questions q LEFT JOIN keywords k ON k.id = q.keyword_id WHERE q.status IN (?, ?)"
        var arguments: StatementArguments = [QuestionRow.Status.accepted, includingDisputed ? QuestionRow.Status.disputed : QuestionRow.Status.accepted]
        if let origin { sql += " AND q.origin = ?"; arguments += [origin] }
        if let split { sql += " AND q.split = ?"; arguments += [split] }
        sql += " ORDER BY q.rowid"
        return try QuestionRow.fetchAll(db, sql: sql, arguments: arguments).map(\.question)
    }
}
