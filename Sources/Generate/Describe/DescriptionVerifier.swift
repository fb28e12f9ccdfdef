import Dataset
import Foundation
import GRDB

/// `describe.verify`: which descriptions need a faithfulness verdict, what a text-only one is checked against, and
/// the verdict as it is stored (`judgements`, judge `faithfulness`, subject the description row's identity).
///
/// - An image-grounded description is checked against its image.
/// - A text-only description is checked against the accepted image-grounded descriptions of its keyword that the
///   judge found faithful (or minor), up to `maxReferences`. When its keyword has none, it is accepted with the
///   verdict `unverified` — not checked, counted as such in `status`, never taken for faithful — and checked on a
///   later run once such descriptions exist.
///
/// A description is pending for the verifier when it is accepted and has no verdict under the verifier's current
/// settings (model, template, schema) for its current text, or is `unverified` while references now exist; a
/// description rejected as `unfaithful` under other verifier settings is judged again too. `describe.verify: false`
/// asks nothing and changes no stored verdict or rejection.
public struct DescriptionVerifier: Sendable {
    public let judge: FaithfulnessJudge

    /// The most references a text-only check quotes.
    public static let maxReferences = 6

    public init(judge: FaithfulnessJudge) { self.judge = judge }

    public static func basis(ofMode mode: String) -> FaithfulnessJudge.Basis { mode == "text-only" ? .descriptions : .image }

    /// The content hash a verdict on `text` is tied to.
    public static func fingerprint(_ text: String) -> String { JudgementRow.fingerprint([text]) }

    /// Whether a stored row needs the verifier (see the type's comment).
    func needsVerdict(_ row: DescriptionRow, judgement: JudgementRow?, hasReferences: Bool) -> Bool {
        let hash = judge.settingsHash(Self.basis(ofMode: row.mode))
        switch row.status {
        case "accepted":
            guard let text = row.text, let judgement else { return row.text != nil }
            if !judgement.isCurrent(settingsHash: hash, subjectSHA256: Self.fingerprint(text)) { return true }
            return judgement.judgementVerdict == .unverified && hasReferences
        case "rejected" where row.reason == JudgementVerdict.unfaithful.rawValue:
            return judgement?.settingsHash != hash
        default:
            return false
        }
    }

    /// Per keyword, the texts a text-only description of it is checked against: its accepted image-grounded
    /// descriptions judged faithful or minor, in a fixed order (image, aspect, language, variant, template, model).
    static func references(in db: Database, judgements: [String: JudgementRow]) throws -> [Int64: [String]] {
        var out: [Int64: [String]] = [:]
        for row in try DescriptionRow.filter(Column("mode") == "image-grounded" && Column("status") == "accepted")
            .order(Column("keyword_id"), Column("image_sha256"), Column("aspect"), Column("language"), Column("variant"),
                   Column("template_sha256"), Column("model"))
            .fetchAll(db) {
            guard let text = row.text, (out[row.keywordId]?.count ?? 0) < maxReferences,
                  let verdict = judgements[row.subject]?.judgementVerdict, verdict == .faithful || verdict == .minor else { continue }
            out[row.keywordId, default: []].append(text)
        }
        return out
    }

    /// A verdict on one description, as recorded.
    public struct Record: Sendable {
        public var verdict: JudgementVerdict
        public var basis: FaithfulnessJudge.Basis
        public var unsupported: [String]
        /// Writer answers judged for this description (1 when the first was accepted).
        public var attempts: Int
        /// The claims fed back to the writer before each rewrite, in order.
        public var earlier: [[String]]
        public var references: Int
        public var requestKey: String?
        /// Why there is no verdict (`unverified`).
        public var note: String?
    }

    /// The `judgements` row of `record` on `text`, the description `subject`.
    func row(_ record: Record, subject: String, text: String, keywordID: Int64, imageSHA256: String) -> JudgementRow {
        var detail: [String: Any] = ["basis": record.basis.rawValue, "unsupported": record.unsupported, "attempts": record.attempts]
        if !record.earlier.isEmpty { detail["earlier_unsupported"] = record.earlier }
        if record.basis == .descriptions { detail["references"] = record.references }
        let reason = record.note ?? (record.unsupported.isEmpty ? nil : record.unsupported.joined(separator: "; "))
        return JudgementRow(judge: .faithfulness, subject: subject, subjectSHA256: Self.fingerprint(text), keywordID: keywordID,
                            imageSHA256: imageSHA256, settingsHash: judge.settingsHash(record.basis), model: judge.model,
                            verdict: record.verdict, reason: reason, detail: detail, requestKey: record.requestKey)
    }

    /// What the writer is told before it writes again.
    static func feedback(_ claims: [String], basis: FaithfulnessJudge.Basis, keyword: String) -> String {
        let list = claims.map { "- \"\($0)\"" }.joined(separator: "\n")
        switch basis {
        case .image:
            return "A check of your description against the image found claims the image does not support:\n\(list)\n"
                + "Write the description again without these claims: describe only what the image shows, and follow the original instructions."
        case .descriptions:
            return "A check of your description against descriptions written from photographs of \(keyword) found claims they contradict:\n\(list)\n"
                + "Write the description again without these claims, following the original instructions."
        }
    }
}
