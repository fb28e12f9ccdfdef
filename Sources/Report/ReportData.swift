import Dataset
import Foundation
import GRDB

/// Everything the HTML report shows, read from the manifest in one snapshot.
struct ReportData {
    struct ImageEntry {
        let sha256: String
        let path: String
        let format: String
        let width: Int
        let height: Int
        /// nil: not decided yet; empty: kept; otherwise the failing rules with their reasons.
        let dropped: [(rule: String, reason: String)]?
        var kept: Bool { dropped?.isEmpty == true }
    }

    struct KeywordEntry {
        let text: String
        let category: String?
        var images: [ImageEntry]
    }

    struct Sample {
        let title: String
        let text: String
    }

    var status = StatusReport()
    var keywords: [KeywordEntry] = []
    var shortSides: [Double] = []
    var aspectRatios: [Double] = []
    var descriptionSamples: [String: [Sample]] = [:]
    var descriptionLengths: [String: [Double]] = [:]
    var questionSamples: [(type: Int, question: String, options: [String], answer: Int)] = []
    var answerLetters: [String: Int] = [:]
    var evalRows: [(model: String, label: String?, condition: String, circular: Bool, result: [String: Any])] = []
    /// Questions the answer-key verifier disputed (kept out, or kept by `mcq.keep_disputed`), with its answer and reason.
    var disputedQuestions: [DisputedQuestion] = []
    /// Descriptions rejected as unfaithful, with the claims the verifier found unsupported.
    var unfaithfulDescriptions: [UnfaithfulDescription] = []

    struct DisputedQuestion {
        let id: String
        let type: Int
        let keyword: String
        let imageSHA256: String
        let question: String
        let options: [String]
        let key: Int
        let verifierAnswer: String
        let reason: String
        let dispute: String
        let status: String
    }

    struct UnfaithfulDescription {
        let keyword: String
        let aspect: String
        let mode: String
        let imageSHA256: String
        let text: String
        let detail: String
    }
    var runs: [(command: String, status: String, started: Double, finished: Double?)] = []

    static func load(_ db: Database) throws -> ReportData {
        var data = ReportData()
        data.status = try StatusReport.compute(db)

        var decisions: [String: [(String, String, Bool)]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT keyword_id, image_sha256, rule, reason, pass FROM filter_decisions") {
            decisions["\(row["keyword_id"] as Int64)|\(row["image_sha256"] as String)", default: []]
                .append((row["rule"], row["reason"] ?? "", (row["pass"] as Int) == 1))
        }
        var byKeyword: [Int64: KeywordEntry] = [:]
        var order: [Int64] = []
        for row in try Row.fetchAll(db, sql: "SELECT id, text, category FROM keywords ORDER BY id") {
            let id: Int64 = row["id"]
            byKeyword[id] = KeywordEntry(text: row["text"], category: row["category"], images: [])
            order.append(id)
        }
        let imageRows = try Row.fetchAll(db, sql: """
            SELECT DISTINCT c.keyword_id, i.sha256, i.path, i.format, i.display_width, i.display_height, i.width, i.height
            FROM downloads d JOIN candidates c ON c.id = d.candidate_id JOIN images i ON i.sha256 = d.image_sha256
            WHERE d.status = 'ok' ORDER BY c.keyword_id, i.created_at, i.sha256
            """)
        for row in imageRows {
            let kid: Int64 = row["keyword_id"]
            let sha: String = row["sha256"]
            let w: Int = row["display_width"] ?? row["width"] ?? 0
            let h: Int = row["display_height"] ?? row["height"] ?? 0
            let ds = decisions["\(kid)|\(sha)"]
            let dropped = ds.map { $0.filter { !$0.2 }.map { (rule: $0.0, reason: $0.1) } }
            byKeyword[kid]?.images.append(ImageEntry(sha256: sha, path: row["path"], format: row["format"] ?? "?",
                                                     width: w, height: h, dropped: dropped))
            if w > 0 && h > 0 {
                data.shortSides.append(Double(min(w, h)))
                data.aspectRatios.append(Double(w) / Double(h))
            }
        }
        data.keywords = order.compactMap { byKeyword[$0] }

        for row in try Row.fetchAll(db, sql: """
            SELECT d.aspect, d.mode, d.language, d.text, k.text AS keyword FROM descriptions d
            JOIN keywords k ON k.id = d.keyword_id WHERE d.status = 'accepted' ORDER BY d.id
            """) {
            let aspect: String = row["aspect"]
            let text: String = row["text"] ?? ""
            data.descriptionLengths[aspect, default: []].append(Double(text.count))
            if (data.descriptionSamples[aspect]?.count ?? 0) < 3 {
                data.descriptionSamples[aspect, default: []].append(
                    Sample(title: "\(row["keyword"] as String) · \(row["mode"] as String) · \(row["language"] as String)", text: text))
            }
        }
        for row in try Row.fetchAll(db, sql: "SELECT type, question, options, answer FROM questions WHERE status = 'accepted' ORDER BY id") {
            let question: String = row["question"] ?? ""
            let optionsText: String? = row["options"]
            let options = JSONText.decode([String].self, from: optionsText) ?? []
            let answer: Int = row["answer"]
            let letter = HTML.letter(answer)
            data.answerLetters[letter, default: 0] += 1
            let type: Int = row["type"]
            if data.questionSamples.filter({ $0.type == type }).count < 4 {
                data.questionSamples.append((type: type, question: question, options: options, answer: answer))
            }
        }
        let verdicts = try JudgementRow.all(of: .answerKey, in: db)
        for row in try Row.fetchAll(db, sql: """
            SELECT q.id, q.type, q.question, q.options, q.answer, q.image_sha256, q.status, COALESCE(k.text, '') AS keyword
              FROM questions q JOIN judgements j ON j.judge = ? AND j.subject = q.id LEFT JOIN keywords k ON k.id = q.keyword_id
             WHERE j.verdict = ? AND q.status IN ('accepted', 'disputed') ORDER BY q.id
            """, arguments: [Judge.answerKey.rawValue, JudgementVerdict.disputed.rawValue]) {
            let id: String = row["id"]
            guard let verdict = verdicts[id] else { continue }
            data.disputedQuestions.append(DisputedQuestion(
                id: id, type: row["type"], keyword: row["keyword"], imageSHA256: row["image_sha256"], question: row["question"],
                options: JSONText.decode([String].self, from: row["options"] as String?) ?? [], key: row["answer"],
                verifierAnswer: verdict.answer ?? "?", reason: verdict.reason ?? "",
                dispute: verdict.detailObject["dispute"] as? String ?? "disputed", status: row["status"]))
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT k.text AS keyword, d.aspect, d.mode, d.image_sha256, d.text, d.detail FROM descriptions d
              JOIN keywords k ON k.id = d.keyword_id WHERE d.status = 'rejected' AND d.reason = ? ORDER BY d.id
            """, arguments: [JudgementVerdict.unfaithful.rawValue]) {
            data.unfaithfulDescriptions.append(UnfaithfulDescription(
                keyword: row["keyword"], aspect: row["aspect"], mode: row["mode"], imageSHA256: row["image_sha256"],
                text: row["text"] ?? "", detail: row["detail"] ?? ""))
        }
        for row in try Row.fetchAll(db, sql: "SELECT model, label, condition, circular, result FROM eval_results ORDER BY id") {
            let result = (try? JSONSerialization.jsonObject(with: Data((row["result"] as String).utf8))) as? [String: Any] ?? [:]
            data.evalRows.append((row["model"], row["label"], row["condition"], (row["circular"] as Int) == 1, result))
        }
        for row in try Row.fetchAll(db, sql: "SELECT command, status, started_at, finished_at FROM runs ORDER BY id") {
            data.runs.append((row["command"], row["status"], row["started_at"], row["finished_at"]))
        }
        return data
    }
}
