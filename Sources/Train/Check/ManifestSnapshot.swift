import Dataset
import Foundation
import GRDB

/// The rows of the manifest the checks compare the shards with, read in one transaction.
struct ManifestSnapshot {
    struct Question {
        var id: String
        var keywordID: Int64?
        var keyword: String?
        var imageSHA256: String
        var type: Int
        var question: String
        var options: [String]
        var answer: Int
        var split: String
        var status: String
        var origin: String
        var accepted: Bool { status == "accepted" }
        /// What an answer-key verdict on it must be tied to (`JudgementRow.fingerprint(question:options:answer:)`).
        var fingerprint: String { JudgementRow.fingerprint(question: question, options: options, answer: answer) }
    }

    struct Image {
        var sha256: String
        var path: String
        var format: String?
        var phash: UInt64?
    }

    struct Description {
        var id: Int64
        var keywordID: Int64
        var keyword: String
        var imageSHA256: String
        var aspect: String
        var mode: String
        var language: String
        var variant: Int
        var templateSHA256: String
        var model: String
        var text: String?
        var status: String
        var reason: String?
    }

    var questions: [String: Question] = [:]
    /// Accepted or not, in id order.
    var questionIDs: [String] = []
    var images: [String: Image] = [:]
    var keywords: [Int64: String] = [:]
    var keptPairs: [KeywordImage] = []
    var descriptions: [Description] = []
    var split: SplitMap
    var splitSettings: SplitSettings?
    /// The answer-key verdicts, by question id.
    var answerKeyVerdicts: [String: JudgementRow] = [:]
    /// The judges' counts, as `status` shows them.
    var judgementCounts = JudgementCounts()

    var acceptedQuestions: [Question] { questionIDs.compactMap { questions[$0] }.filter(\.accepted) }

    static func load(_ manifest: Manifest) throws -> ManifestSnapshot {
        try manifest.read { db in
            var snapshot = ManifestSnapshot(split: try SplitMap.load(in: db), splitSettings: try ExperimentSplit.storedSettings(in: db))
            for row in try Row.fetchAll(db, sql: "SELECT id, text FROM keywords") { snapshot.keywords[row["id"]] = row["text"] }
            for row in try Row.fetchAll(db, sql: "SELECT sha256, path, format, phash FROM images") {
                let hex: String? = row["phash"]
                snapshot.images[row["sha256"]] = Image(sha256: row["sha256"], path: row["path"], format: row["format"],
                                                       phash: hex.flatMap { UInt64($0, radix: 16) })
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT id, keyword_id, image_sha256, type, question, options, answer, split, status, origin FROM questions ORDER BY id
                """) {
                let keywordID: Int64? = row["keyword_id"]
                let q = Question(id: row["id"], keywordID: keywordID, keyword: keywordID.flatMap { snapshot.keywords[$0] },
                                 imageSHA256: row["image_sha256"], type: row["type"], question: row["question"],
                                 options: JSONText.decode([String].self, from: row["options"]) ?? [], answer: row["answer"],
                                 split: row["split"], status: row["status"], origin: row["origin"])
                snapshot.questions[q.id] = q
                snapshot.questionIDs.append(q.id)
            }
            snapshot.keptPairs = try KeptPairs.all(in: db)
            for row in try Row.fetchAll(db, sql: """
                SELECT id, keyword_id, image_sha256, aspect, mode, language, variant, template_sha256, model, text, status, reason
                  FROM descriptions ORDER BY id
                """) {
                let keywordID: Int64 = row["keyword_id"]
                snapshot.descriptions.append(Description(
                    id: row["id"], keywordID: keywordID, keyword: snapshot.keywords[keywordID] ?? "", imageSHA256: row["image_sha256"],
                    aspect: row["aspect"], mode: row["mode"], language: row["language"], variant: row["variant"],
                    templateSHA256: row["template_sha256"], model: row["model"], text: row["text"], status: row["status"],
                    reason: row["reason"]))
            }
            snapshot.answerKeyVerdicts = try JudgementRow.all(of: .answerKey, in: db)
            snapshot.judgementCounts = try JudgementCounts.compute(db)
            return snapshot
        }
    }
}
