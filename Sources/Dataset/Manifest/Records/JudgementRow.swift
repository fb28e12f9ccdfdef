import Foundation
import GRDB

/// A row of `judgements`: one judge's current verdict on one item — a description checked for faithfulness, a
/// question's answer key checked by a verifier model. One row per (judge, subject); a new verdict replaces it.
///
/// A verdict is current when it was made under the judge's present settings (`settingsHash`: its model and prompt
/// template) about the item as it is now (`subjectSHA256`: the description's text, the question's stem, options and
/// key). Anything else makes the item pending for that judge again; a judge call that fails writes no row, so a
/// failure is never a verdict.
public struct JudgementRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "judgements"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    /// `Judge.rawValue`.
    public var judge: String
    /// The judged row's identity: a question's id; a description's `DescriptionKey.subject(model:)`.
    public var subject: String
    /// sha256 of what was judged (`JudgementRow.fingerprint`), so a rewritten item is judged again.
    public var subjectSha256: String
    public var keywordId: Int64?
    /// The image the item is about ('' when none).
    public var imageSha256: String
    /// The judge's settings (model, template hash, schema) when it judged (`Judge.settingsHash`).
    public var settingsHash: String
    /// The model that judged.
    public var model: String
    /// One of `judge`'s verdicts (`Judge.verdicts`).
    public var verdict: String
    /// The verifier's own answer, when the judge asks for one (the answer-key judge's letter).
    public var answer: String?
    /// One line for a person: the verifier's reason, or the claims it found unsupported.
    public var reason: String?
    /// The rest as a JSON object text (claims, attempts, what the item was checked against).
    public var detail: String
    /// The cache key of the last request the verdict came from.
    public var requestKey: String?
    public var judgedAt: Double

    public init(judge: Judge, subject: String, subjectSHA256: String, keywordID: Int64?, imageSHA256: String,
                settingsHash: String, model: String, verdict: JudgementVerdict, answer: String? = nil, reason: String? = nil,
                detail: [String: Any] = [:], requestKey: String?, judgedAt: Double = Date().timeIntervalSince1970) {
        self.judge = judge.rawValue
        self.subject = subject
        self.subjectSha256 = subjectSHA256
        self.keywordId = keywordID
        self.imageSha256 = imageSHA256
        self.settingsHash = settingsHash
        self.model = model
        self.verdict = verdict.rawValue
        self.answer = answer
        self.reason = reason
        self.detail = JSONText.encodeObject(detail)
        self.requestKey = requestKey
        self.judgedAt = judgedAt
    }

    /// Whether this verdict still stands for an item whose content hashes to `subjectSHA256`, judged under
    /// `settingsHash`.
    public func isCurrent(settingsHash: String, subjectSHA256: String) -> Bool {
        self.settingsHash == settingsHash && self.subjectSha256 == subjectSHA256
    }

    /// `verdict` as the enum (nil for a value this binary does not know).
    public var judgementVerdict: JudgementVerdict? { JudgementVerdict(rawValue: verdict) }

    /// `detail` as a dictionary.
    public var detailObject: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(detail.utf8))) as? [String: Any] ?? [:]
    }

    /// The content hash a judgement is tied to: sha256 of the parts joined by a unit separator.
    public static func fingerprint(_ parts: [String]) -> String {
        ContentHash.sha256Hex(parts.joined(separator: "\u{1F}"))
    }

    /// What an answer-key verdict is tied to: the stem, the options in order and the key. A rewritten question (a
    /// Type 2 question written again by another model) is judged again.
    public static func fingerprint(question: String, options: [String], answer: Int) -> String {
        fingerprint([question] + options + [String(answer)])
    }

    /// Every row of one judge, by subject.
    public static func all(of judge: Judge, in db: Database) throws -> [String: JudgementRow] {
        let rows = try JudgementRow.filter(Column("judge") == judge.rawValue).fetchAll(db)
        return Dictionary(rows.map { ($0.subject, $0) }, uniquingKeysWith: { a, _ in a })
    }
}

/// The judges that write `judgements` rows.
public enum Judge: String, Sendable, CaseIterable {
    /// Is a description true of its image (image-grounded), or free of visual contradictions with the
    /// image-grounded descriptions of its keyword (text-only)? `describe.verify`.
    case faithfulness
    /// Does a verifier model, shown what a careful person would have but not the key, pick the key, and only it?
    /// `mcq.verify`.
    case answerKey = "answer_key"

    /// The verdicts this judge gives.
    public var verdicts: [JudgementVerdict] {
        switch self {
        case .faithfulness: [.faithful, .minor, .unfaithful, .unverified]
        case .answerKey: [.confirmed, .disputed]
        }
    }

    /// The hash of everything that makes one judge's verdicts comparable: its name, model, template hash and
    /// answer schema. A change makes every item pending for the judge again.
    public static func settingsHash(_ judge: String, model: String, templateSHA256: String, schema: String) -> String {
        JudgementRow.fingerprint([judge, model, templateSHA256, schema])
    }
}

/// A verdict of a judge.
public enum JudgementVerdict: String, Sendable, CaseIterable {
    /// Faithfulness: every visual claim is supported.
    case faithful
    /// Faithfulness: only small details are unsupported; accepted.
    case minor
    /// Faithfulness: a claim is contradicted or invented; the description is re-asked, then rejected.
    case unfaithful
    /// Faithfulness of a text-only description when its keyword has no accepted image-grounded description to
    /// check it against: accepted, not verified, counted as such (checked when one exists).
    case unverified
    /// Answer key: the verifier chose the key and found one defensible option.
    case confirmed
    /// Answer key: the verifier chose another option, or found more than one defensible.
    case disputed
}
