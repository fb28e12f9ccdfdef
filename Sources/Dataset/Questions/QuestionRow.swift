import Foundation
import GRDB

/// A `questions` row: a `Question` and its state in the workspace (status, reason, request key, when it was saved
/// and placed, the blind check's verdict). The one mapping between the table and the question model: `upsert`
/// writes every column (a rewritten row's `leaky` too: it has not been checked), `init(row:)` reads a row (with the
/// keyword's text when the query joins it as `keyword`).
///
/// File fields that have no column ride in `extra` under fixed keys: the image file's name (`image_path`), its web
/// address (`image_url`) and, for a question not linked to a `keywords` row, its keyword's text (`keyword`). They
/// are folded in on save and taken out again on read, so the model's fields come back as they were saved.
public struct QuestionRow: Sendable, Equatable {
    public var question: Question
    /// `accepted`, `rejected` (by a check; `reason` says which), `failed` (the model call failed) or `disputed` (the
    /// answer-key verifier contradicted the key or found two options defensible; `reason` says which, the verdict
    /// is in `judgements`): see `Status`.
    public var status: String
    public var reason: String?
    /// The LLM request the question was written from.
    public var requestKey: String?
    public var createdAt: Double
    /// When its answer letter became final (nil while being created).
    public var placedAt: Double?
    /// The blind check's verdict (nil: not checked since it was saved).
    public var leaky: Bool?

    public init(question: Question, status: String = "accepted", reason: String? = nil, requestKey: String? = nil,
                createdAt: Double = Date().timeIntervalSince1970, placedAt: Double? = nil, leaky: Bool? = nil) {
        self.question = question
        self.status = status
        self.reason = reason
        self.requestKey = requestKey
        self.createdAt = createdAt
        self.placedAt = placedAt
        self.leaky = leaky
    }

    public enum Columns {
        public static let id = Column("id")
        public static let keywordID = Column("keyword_id")
        public static let imageSHA256 = Column("image_sha256")
        public static let type = Column("type")
        public static let question = Column("question")
        public static let options = Column("options")
        public static let answer = Column("answer")
        public static let aspect = Column("aspect")
        public static let rationale = Column("rationale")
        public static let category = Column("category")
        public static let split = Column("split")
        public static let status = Column("status")
        public static let reason = Column("reason")
        public static let origin = Column("origin")
        public static let model = Column("model")
        public static let templateSHA256 = Column("template_sha256")
        public static let requestKey = Column("request_key")
        public static let leaky = Column("leaky")
        public static let extra = Column("extra")
        public static let createdAt = Column("created_at")
        public static let placedAt = Column("placed_at")
        /// Not a column: the joined `keywords.text` a query may select under this name.
        public static let keyword = Column("keyword")
    }

    /// The values of `status` (the table's CHECK). Only `accepted` questions are asked, trained on, exported and
    /// scored: a `disputed` one is out of all of them until `mcq.keep_disputed` makes it `accepted` again.
    public enum Status {
        public static let accepted = "accepted", rejected = "rejected", failed = "failed", disputed = "disputed"
    }

    /// The keys of `extra` that hold file fields with no column.
    public enum ExtraKey {
        public static let imagePath = "image_path", imageURL = "image_url", keyword = "keyword"
    }

    /// The question's split and origin when it gives none: the columns' defaults.
    public static let defaultSplit = "train", defaultOrigin = "generated"

    /// The `extra` column for `q`: its extra with the file fields that have no column folded in.
    static func storedExtra(_ q: Question) -> String {
        guard q.imagePath != nil || q.imageURL != nil || (q.keywordID == nil && q.keyword != nil) else { return q.extra }
        var extra = QuestionJSON.object(q.extra)
        if let path = q.imagePath { extra[ExtraKey.imagePath] = path }
        if let link = q.imageURL { extra[ExtraKey.imageURL] = link }
        if q.keywordID == nil, let keyword = q.keyword { extra[ExtraKey.keyword] = keyword }
        return QuestionJSON.text(extra)
    }
}

extension QuestionRow: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "questions"

    public init(row: Row) throws {
        let storedExtra: String = row[Columns.extra]
        var extra = QuestionJSON.object(storedExtra)
        let imagePath = extra.removeValue(forKey: ExtraKey.imagePath) as? String
        let imageURL = extra.removeValue(forKey: ExtraKey.imageURL) as? String
        let keywordID: Int64? = row[Columns.keywordID]
        let joined: String? = row.hasColumn("keyword") ? row[Columns.keyword] : nil
        let storedKeyword = keywordID == nil ? extra.removeValue(forKey: ExtraKey.keyword) as? String : nil
        let keyword = joined ?? storedKeyword
        // Untouched when no file field was folded in, so a generated question's extra reads back byte for byte.
        let rest = imagePath == nil && imageURL == nil && storedKeyword == nil ? storedExtra : QuestionJSON.text(extra)
        let sha: String = row[Columns.imageSHA256]
        let optionsText: String = row[Columns.options]
        let options = JSONText.decode([String].self, from: optionsText) ?? []
        question = Question(
            id: row[Columns.id], type: row[Columns.type], question: row[Columns.question], options: options, answer: row[Columns.answer],
            category: row[Columns.category], split: row[Columns.split], origin: row[Columns.origin], keyword: keyword, keywordID: keywordID,
            imageSHA256: sha.isEmpty ? nil : sha, imagePath: imagePath, imageURL: imageURL, aspect: row[Columns.aspect],
            rationale: row[Columns.rationale], model: row[Columns.model], templateSHA256: row[Columns.templateSHA256],
            extra: rest)
        status = row[Columns.status]
        reason = row[Columns.reason]
        requestKey = row[Columns.requestKey]
        createdAt = row[Columns.createdAt]
        placedAt = row[Columns.placedAt]
        leaky = row[Columns.leaky]
    }

    public func encode(to container: inout PersistenceContainer) throws {
        let q = question
        container[Columns.id] = q.id
        container[Columns.keywordID] = q.keywordID
        container[Columns.imageSHA256] = q.imageSHA256 ?? ""
        container[Columns.type] = q.type
        container[Columns.question] = q.question
        container[Columns.options] = JSONText.encodeObject(q.options)
        container[Columns.answer] = q.answer
        container[Columns.aspect] = q.aspect
        container[Columns.rationale] = q.rationale
        container[Columns.category] = q.category
        container[Columns.split] = q.split ?? Self.defaultSplit
        container[Columns.status] = status
        container[Columns.reason] = reason
        container[Columns.origin] = q.origin ?? Self.defaultOrigin
        container[Columns.model] = q.model
        container[Columns.templateSHA256] = q.templateSHA256
        container[Columns.requestKey] = requestKey
        container[Columns.leaky] = leaky
        container[Columns.extra] = Self.storedExtra(q)
        container[Columns.createdAt] = createdAt
        container[Columns.placedAt] = placedAt
    }
}
