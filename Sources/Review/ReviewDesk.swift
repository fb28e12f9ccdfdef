import Dataset
import Foundation
import GRDB

/// The reviewer's actions on a workspace's manifest: accept, reject or relabel an image for its keyword; accept,
/// reject or edit a description or a question; undo the last action. Each action is one transaction that writes
/// a `reviews` row (before → after, reviewer, time) and the current human decision (`human_pairs`, `human_texts`),
/// which overrides the automated decisions for that item (`HumanDecisionSchema`). An action on several items
/// (`decideImages`, `relabelImages`, `decideDescriptions`, `decideQuestions`) is one transaction and one batch of
/// `reviews` rows that one undo reverts together; any bad item refuses the whole action. The caller holds the
/// workspace lock while it writes.
public struct ReviewDesk: Sendable {
    /// Accept or reject.
    public enum Verdict: String, Sendable, CaseIterable {
        case accept, reject
        var textStatus: String { self == .accept ? "accepted" : "rejected" }
    }

    public let manifest: Manifest
    public let reviewer: String
    /// When an action is taken (an import passes the recorded time).
    public var now: @Sendable () -> Double = { Date().timeIntervalSince1970 }

    public init(manifest: Manifest, reviewer: String) {
        self.manifest = manifest
        self.reviewer = reviewer
    }

    // MARK: Images

    /// Accepts or rejects image `sha256` for `keyword` (its text): the image must be one of that keyword's.
    @discardableResult
    public func decideImage(sha256: String, keyword: String, _ verdict: Verdict) throws -> Int64 {
        try decideImages([sha256], keyword: keyword, verdict)[0]
    }

    /// Accepts or rejects images `shas` for `keyword`: one transaction and one undoable action.
    @discardableResult
    public func decideImages(_ shas: [String], keyword: String, _ verdict: Verdict) throws -> [Int64] {
        try batch(shas) { db, batch in try shas.map { try decideImage(sha256: $0, keyword: keyword, verdict, batch: &batch, in: db) } }
    }

    func decideImage(sha256: String, keyword: String, _ verdict: Verdict, batch: inout Int64?, in db: Database) throws -> Int64 {
            let kid = try Self.keywordID(keyword, in: db)
            try Self.requirePair(sha256, keywordID: kid, keyword: keyword, in: db)
            var log = ReviewLog.Entry(subject: "image", action: verdict.rawValue, keyword: keyword, imageSHA256: sha256, item: sha256)
            log.key = ["image_sha256": sha256, "keyword": keyword]
            try log.setPair(sha256: sha256, keywordID: kid, to: verdict.rawValue, in: db)
            if verdict == .reject { try Self.rejectTexts(of: sha256, keywordID: kid, log: &log, in: db) }
            return try log.insert(reviewer: reviewer, at: now(), batch: &batch, in: db)
    }

    /// Moves image `sha256` from keyword `from` to keyword `to`: rejected for the first, accepted for the second,
    /// where describe and mcq then find it pending.
    /// The image must be one of `from`'s; `to` may be any other keyword.
    @discardableResult
    public func relabelImage(sha256: String, from: String, to: String) throws -> Int64 {
        try relabelImages([sha256], from: from, to: to)[0]
    }

    /// Relabels images `shas` from `from` to `to`: one transaction and one undoable action.
    @discardableResult
    public func relabelImages(_ shas: [String], from: String, to: String) throws -> [Int64] {
        try batch(shas) { db, batch in try shas.map { try relabelImage(sha256: $0, from: from, to: to, batch: &batch, in: db) } }
    }

    func relabelImage(sha256: String, from: String, to: String, batch: inout Int64?, in db: Database) throws -> Int64 {
        guard from != to else { throw ReviewError(.invalid, item: sha256, "relabel to the same keyword \"\(to)\"") }
            let old = try Self.keywordID(from, in: db), new = try Self.keywordID(to, in: db)
            try Self.requirePair(sha256, keywordID: old, keyword: from, in: db)
            var log = ReviewLog.Entry(subject: "image", action: "relabel", keyword: from, imageSHA256: sha256, item: sha256)
            log.key = ["image_sha256": sha256, "keyword": from]
            log.after["to_keyword"] = to
            try log.setPair(sha256: sha256, keywordID: old, to: "reject", in: db)
            try Self.rejectTexts(of: sha256, keywordID: old, log: &log, in: db)
            try log.setPair(sha256: sha256, keywordID: new, to: "accept", in: db)
            return try log.insert(reviewer: reviewer, at: now(), batch: &batch, in: db)
    }

    /// Runs `body` for the items of one action in one transaction; refuses an empty selection.
    func batch<T>(_ items: [String], _ body: (Database, inout Int64?) throws -> T) throws -> T {
        guard !items.isEmpty else { throw ReviewError(.invalid, item: "selection", "no item selected") }
        return try manifest.write { db in
            var batch: Int64?
            return try body(db, &batch)
        }
    }

    /// An image rejected for a keyword (or relabelled away from it) takes its image-grounded descriptions and its
    /// questions under that keyword with it: rejected by the same review (undone with it), so no stage, export or
    /// eval uses a text about an image a human said is not the keyword.
    static func rejectTexts(of sha256: String, keywordID: Int64, log: inout ReviewLog.Entry, in db: Database) throws {
        let descriptions = try Int64.fetchAll(db, sql: """
            SELECT id FROM descriptions WHERE keyword_id = ? AND image_sha256 = ? AND status = 'accepted' ORDER BY id
            """, arguments: [keywordID, sha256])
        for id in descriptions { try log.setText(subject: "description", item: "\(id)", to: "rejected", in: db) }
        let questions = try String.fetchAll(db, sql: """
            SELECT id FROM questions WHERE keyword_id = ? AND image_sha256 = ? AND status = 'accepted' ORDER BY rowid
            """, arguments: [keywordID, sha256])
        for id in questions { try log.setText(subject: "question", item: id, to: "rejected", in: db) }
    }

    // MARK: Descriptions

    /// Accepts or rejects description `id` (accepts only while its image is kept under its keyword).
    @discardableResult
    public func decideDescription(id: Int64, _ verdict: Verdict) throws -> Int64 {
        try decideDescriptions([id], verdict)[0]
    }

    /// Accepts or rejects descriptions `ids`: one transaction and one undoable action.
    @discardableResult
    public func decideDescriptions(_ ids: [Int64], _ verdict: Verdict) throws -> [Int64] {
        try batch(ids.map(String.init)) { db, batch in
            try ids.map { id in
            let row = try Self.description(id, in: db)
            if verdict == .accept { try Self.requireKept(row, item: "description \(id)", in: db) }
            var log = ReviewLog.Entry(subject: "description", action: verdict.rawValue, keyword: row.keyword, imageSHA256: row.imageSHA256, item: "\(id)")
            log.key = row.key
            try log.setText(subject: "description", item: "\(id)", to: verdict.textStatus, in: db)
            return try log.insert(reviewer: reviewer, at: now(), batch: &batch, in: db)
            }
        }
    }

    /// Replaces description `id` by a new version with `text` (model `human`); the old one is kept, rejected.
    /// Returns the new version's id.
    @discardableResult
    public func editDescription(id: Int64, text: String) throws -> Int64 {
        let text = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw ReviewError(.invalid, item: "description \(id)", "the edited text is empty") }
        return try manifest.write { db in
            let row = try Self.description(id, in: db)
            try Self.requireKept(row, item: "description \(id)", in: db)
            var log = ReviewLog.Entry(subject: "description", action: "edit", keyword: row.keyword, imageSHA256: row.imageSHA256, item: "\(id)")
            log.key = row.key
            log.after["text"] = text
            let variant = try Int.fetchOne(db, sql: """
                SELECT COALESCE(MAX(variant) + 1, 0) FROM descriptions d
                 WHERE (keyword_id, image_sha256, aspect, mode, language, template_sha256) =
                       (SELECT keyword_id, image_sha256, aspect, mode, language, template_sha256 FROM descriptions WHERE id = ?)
                   AND model = ?
                """, arguments: [id, Self.humanModel]) ?? 0
            try db.execute(sql: """
                INSERT INTO descriptions (keyword_id, image_sha256, aspect, mode, language, variant, template_sha256, model, text,
                                          status, reason, detail, created_at)
                SELECT keyword_id, image_sha256, aspect, mode, language, ?, template_sha256, ?, ?, 'accepted', ?, ?, ?
                  FROM descriptions WHERE id = ?
                """, arguments: [variant, Self.humanModel, text, HumanDecision.reason, "edited from description \(id)", now(), id])
            let newID = db.lastInsertedRowID
            log.after["new_item"] = "\(newID)"
            try log.setText(subject: "description", item: "\(id)", to: "rejected", in: db)
            try log.setText(subject: "description", item: "\(newID)", to: "accepted", in: db, created: true)
            var batch: Int64?
            _ = try log.insert(reviewer: reviewer, at: now(), batch: &batch, in: db)
            return newID
        }
    }

    // MARK: Questions

    /// Accepts or rejects question `id` (accepts only while its image is kept under its keyword).
    @discardableResult
    public func decideQuestion(id: String, _ verdict: Verdict) throws -> Int64 {
        try decideQuestions([id], verdict)[0]
    }

    /// Accepts or rejects questions `ids`: one transaction and one undoable action.
    @discardableResult
    public func decideQuestions(_ ids: [String], _ verdict: Verdict) throws -> [Int64] {
        try batch(ids) { db, batch in
            try ids.map { id in
            let row = try Self.question(id, in: db)
            if verdict == .accept { try Self.requireKept(row, item: "question \(id)", in: db) }
            var log = ReviewLog.Entry(subject: "question", action: verdict.rawValue, keyword: row.keyword, imageSHA256: row.imageSHA256, item: id)
            log.key = row.key
            try log.setText(subject: "question", item: id, to: verdict.textStatus, in: db)
            return try log.insert(reviewer: reviewer, at: now(), batch: &batch, in: db)
            }
        }
    }

    /// Replaces question `id` by a new version (origin `human`, same keyword, image, type and split; its answer
    /// letter placed as given); the old one is kept, rejected. Returns the new version's id.
    @discardableResult
    public func editQuestion(id: String, question: String, options: [String], answer: Int) throws -> String {
        let question = question.trimmingCharacters(in: .whitespacesAndNewlines)
        let options = options.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard !question.isEmpty, options.count >= 2, !options.contains(where: \.isEmpty) else {
            throw ReviewError(.invalid, item: "question \(id)", "an edited question needs its text and at least two non-empty options")
        }
        guard options.indices.contains(answer) else {
            throw ReviewError(.invalid, item: "question \(id)", "answer \(answer) is not one of the \(options.count) options")
        }
        return try manifest.write { db in
            let row = try Self.question(id, in: db)
            try Self.requireKept(row, item: "question \(id)", in: db)
            var log = ReviewLog.Entry(subject: "question", action: "edit", keyword: row.keyword, imageSHA256: row.imageSHA256, item: id)
            log.key = row.key
            log.after["question"] = question
            log.after["options"] = options
            log.after["answer"] = answer
            let base = id.components(separatedBy: "~h").first ?? id
            var n = 1
            while try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM questions WHERE id = ?)", arguments: ["\(base)~h\(n)"]) ?? false { n += 1 }
            let newID = "\(base)~h\(n)"
            let time = now()
            try db.execute(sql: """
                INSERT INTO questions (id, keyword_id, image_sha256, type, question, options, answer, aspect, rationale, category, split,
                                       status, reason, origin, model, template_sha256, request_key, leaky, extra, created_at, placed_at)
                SELECT ?, keyword_id, image_sha256, type, ?, ?, ?, aspect, rationale, category, split,
                       'accepted', ?, ?, model, template_sha256, NULL, leaky, extra, ?, ?
                  FROM questions WHERE id = ?
                """, arguments: [newID, question, JSONText.encodeObject(options), answer, HumanDecision.reason, Self.humanModel,
                                 time, time, id])
            log.after["new_item"] = newID
            try log.setText(subject: "question", item: id, to: "rejected", in: db)
            try log.setText(subject: "question", item: newID, to: "accepted", in: db, created: true)
            var batch: Int64?
            _ = try log.insert(reviewer: reviewer, at: time, batch: &batch, in: db)
            return newID
        }
    }

    // MARK: Undo

    /// Undoes the most recent action in force (by any reviewer), every item of it: restores what it changed and marks it undone.
    /// Returns its review id, or nil when there is nothing to undo.
    @discardableResult
    public func undo() throws -> Int64? {
        try manifest.write { db in try ReviewLog.undoLast(at: now(), in: db) }
    }

    // MARK: Lookups

    /// Why `name` cannot be recorded as a reviewer (nil: it can): empty, or with control characters.
    public static func reviewerProblem(_ name: String) -> String? {
        if name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return "a reviewer's name cannot be empty" }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { return "a reviewer's name cannot hold control characters" }
        return nil
    }

    /// The model and origin recorded on a human-written version.
    public static let humanModel = "human"

    static func keywordID(_ text: String, in db: Database) throws -> Int64 {
        guard let id = try Int64.fetchOne(db, sql: "SELECT id FROM keywords WHERE text = ?", arguments: [text]) else {
            throw ReviewError(.unknownKeyword, item: text, "no such keyword in the manifest")
        }
        return id
    }

    static func requireImage(_ sha256: String, in db: Database) throws {
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM images WHERE sha256 = ?)", arguments: [sha256]) ?? false else {
            throw ReviewError(.unknownImage, item: sha256, "no such image in the manifest")
        }
    }

    /// The image is one of the keyword's: filtered for it (a pair state) or put under it by a human (a relabel).
    static func requirePair(_ sha256: String, keywordID: Int64, keyword: String, in db: Database) throws {
        try requireImage(sha256, in: db)
        guard try Bool.fetchOne(db, sql: """
            SELECT EXISTS (SELECT 1 FROM pair_states WHERE image_sha256 = ?1 AND keyword_id = ?2)
                OR EXISTS (SELECT 1 FROM human_pairs WHERE image_sha256 = ?1 AND keyword_id = ?2)
            """, arguments: [sha256, keywordID]) ?? false else {
            throw ReviewError(.unknownImage, item: sha256, "not an image of keyword \"\(keyword)\"")
        }
    }

    /// A text about an image may be accepted or edited only while that image is kept under the text's keyword.
    static func requireKept(_ row: TextRow, item: String, in db: Database) throws {
        guard !row.imageSHA256.isEmpty, let kid = row.keywordID else { return }
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM kept_pairs WHERE image_sha256 = ? AND keyword_id = ?)",
                                arguments: [row.imageSHA256, kid]) ?? false else {
            throw ReviewError(.invalid, item: item, "its image \(row.imageSHA256.prefix(12)) is not kept under \"\(row.keyword)\"")
        }
    }

    struct TextRow {
        var keyword: String
        var keywordID: Int64?
        var imageSHA256: String
        var key: [String: Any]
    }

    static func description(_ id: Int64, in db: Database) throws -> TextRow {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT k.text AS keyword, d.keyword_id, d.image_sha256, d.aspect, d.mode, d.language, d.variant, d.template_sha256, d.model
              FROM descriptions d JOIN keywords k ON k.id = d.keyword_id WHERE d.id = ?
            """, arguments: [id]) else {
            throw ReviewError(.unknownItem, item: "description \(id)", "no such description")
        }
        let key: [String: Any] = ["keyword": row["keyword"] as String, "image_sha256": row["image_sha256"] as String,
                                  "aspect": row["aspect"] as String, "mode": row["mode"] as String,
                                  "language": row["language"] as String, "variant": row["variant"] as Int,
                                  "template_sha256": row["template_sha256"] as String, "model": row["model"] as String]
        return TextRow(keyword: row["keyword"], keywordID: row["keyword_id"], imageSHA256: row["image_sha256"], key: key)
    }

    static func question(_ id: String, in db: Database) throws -> TextRow {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT COALESCE(k.text, '') AS keyword, k.id AS keyword_id, q.image_sha256, q.type, q.question
              FROM questions q LEFT JOIN keywords k ON k.id = q.keyword_id WHERE q.id = ?
            """, arguments: [id]) else {
            throw ReviewError(.unknownItem, item: "question \(id)", "no such question")
        }
        let key: [String: Any] = ["keyword": row["keyword"] as String, "image_sha256": row["image_sha256"] as String,
                                  "type": row["type"] as Int, "question": row["question"] as String]
        return TextRow(keyword: row["keyword"], keywordID: row["keyword_id"], imageSHA256: row["image_sha256"], key: key)
    }
}
