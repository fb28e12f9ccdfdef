import Foundation
import GRDB

/// Counts per stage and per reason, computed from the manifest. `dsbuild status` prints it; `--json` prints
/// `json` (the shape other tools rely on).
public struct StatusReport: Sendable, Equatable {
    public var keywords = 0
    public var candidates = 0
    public var candidatesBySource: [String: Int] = [:]
    public var downloadsOK = 0
    public var downloadsFailed: [String: Int] = [:]
    public var imagesStored = 0
    public var imagesKept = 0
    public var imagesDropped: [String: Int] = [:]
    public var imagesUndecided = 0
    public var descriptionsAccepted = 0
    public var descriptionsRejected: [String: Int] = [:]
    public var descriptionsByAspect: [String: Int] = [:]
    public var questionsAccepted = 0
    public var questionsRejected: [String: Int] = [:]
    /// Questions the answer-key verifier disputed, kept out of training and test (`disputed`), by reason.
    public var questionsDisputed: [String: Int] = [:]
    public var questionsByType: [String: Int] = [:]
    public var questionsBySplit: [String: Int] = [:]
    public var llmRequests = 0
    public var llmCacheHits = 0
    public var promptTokens = 0
    public var completionTokens = 0
    public var trainRuns = 0
    public var evalResults = 0
    /// What the relevance judge took each keyword's images for (empty when it never ran).
    public var relevance = RelevanceConfusions()
    /// The judges' verdicts (faithfulness, answer keys).
    public var judgements = JudgementCounts()
    /// What reviewers decided (`dsbuild review`), overriding the automated decisions above.
    public var reviews = HumanDecisionCounts()

    public init() {}

    public static func compute(_ manifest: Manifest) throws -> StatusReport {
        try manifest.read { db in try compute(db) }
    }

    public static func compute(_ db: Database) throws -> StatusReport {
        var r = StatusReport()
        func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }
        func grouped(_ sql: String) throws -> [String: Int] {
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: sql) {
                let key: String = row[0] ?? "unknown"
                out[key, default: 0] += row[1] as Int
            }
            return out
        }
        r.keywords = try count("SELECT COUNT(*) FROM keywords")
        r.candidates = try count("SELECT COUNT(*) FROM candidates")
        r.candidatesBySource = try grouped("SELECT source, COUNT(*) FROM candidates GROUP BY source")
        r.downloadsOK = try count("SELECT COUNT(*) FROM downloads WHERE status = 'ok'")
        r.downloadsFailed = try grouped("SELECT reason, COUNT(*) FROM downloads WHERE status = 'failed' GROUP BY reason")
        r.imagesStored = try count("SELECT COUNT(*) FROM images")
        // Kept (keyword, image) pairs: the one definition, the `kept_pairs` view.
        r.imagesKept = try count("SELECT COUNT(*) FROM kept_pairs")
        // Dropped by a rule unless a human decided the pair; pairs a human rejected count under `human`.
        r.imagesDropped = try grouped("""
            SELECT f.rule, COUNT(*) FROM filter_decisions f WHERE f.pass = 0
               AND NOT EXISTS (SELECT 1 FROM human_pairs h WHERE h.image_sha256 = f.image_sha256 AND h.keyword_id = f.keyword_id)
             GROUP BY f.rule
            """)
        let humanRejected = try count("SELECT COUNT(*) FROM human_pairs WHERE decision = 'reject'")
        if humanRejected > 0 { r.imagesDropped[HumanDecision.reason] = humanRejected }
        r.descriptionsAccepted = try count("SELECT COUNT(*) FROM descriptions WHERE status = 'accepted'")
        r.descriptionsRejected = try grouped("SELECT reason, COUNT(*) FROM descriptions WHERE status != 'accepted' GROUP BY reason")
        r.descriptionsByAspect = try grouped("SELECT aspect, COUNT(*) FROM descriptions WHERE status = 'accepted' GROUP BY aspect")
        r.questionsAccepted = try count("SELECT COUNT(*) FROM questions WHERE status = 'accepted'")
        r.questionsRejected = try grouped("SELECT reason, COUNT(*) FROM questions WHERE status NOT IN ('accepted', 'disputed') GROUP BY reason")
        r.questionsDisputed = try grouped("SELECT reason, COUNT(*) FROM questions WHERE status = 'disputed' GROUP BY reason")
        r.questionsByType = try grouped("SELECT CAST(type AS TEXT), COUNT(*) FROM questions WHERE status = 'accepted' GROUP BY type")
        r.questionsBySplit = try grouped("SELECT split, COUNT(*) FROM questions WHERE status = 'accepted' GROUP BY split")
        r.llmRequests = try count("SELECT COUNT(*) FROM llm_cache")
        r.llmCacheHits = try count("SELECT COALESCE(SUM(hits), 0) FROM llm_cache")
        r.promptTokens = try count("SELECT COALESCE(SUM(prompt_tokens), 0) FROM llm_cache")
        r.completionTokens = try count("SELECT COALESCE(SUM(completion_tokens), 0) FROM llm_cache")
        r.trainRuns = try count("SELECT COUNT(*) FROM train_runs")
        r.evalResults = try count("SELECT COUNT(*) FROM eval_results")
        r.relevance = try RelevanceConfusions.load(db)
        r.judgements = try JudgementCounts.compute(db)
        r.reviews = try HumanDecisionCounts.compute(db)
        return r
    }

    /// The machine-readable form documented for `dsbuild status --json`.
    public var json: [String: Any] {
        [
            "keywords": keywords,
            "candidates": candidates,
            "candidates_by_source": candidatesBySource,
            "downloads": ["ok": downloadsOK, "failed": downloadsFailed],
            "images": ["stored": imagesStored, "kept": imagesKept, "dropped": imagesDropped],
            "descriptions": ["accepted": descriptionsAccepted, "rejected": descriptionsRejected, "by_aspect": descriptionsByAspect],
            "questions": ["accepted": questionsAccepted, "rejected": questionsRejected, "by_type": questionsByType.merging(["1": 0, "2": 0]) { a, _ in a },
                          "by_split": questionsBySplit, "disputed": questionsDisputed.values.reduce(0, +), "disputed_by_reason": questionsDisputed],
            "judgements": judgements.json,
            "reviews": reviews.json,
            "llm": ["requests": llmRequests, "cache_hits": llmCacheHits, "prompt_tokens": promptTokens,
                    "completion_tokens": completionTokens],
            "train_runs": trainRuns,
            "eval_results": evalResults,
            "relevance": ["confusions": relevance.json,
                          "likely_label_errors": relevance.likelyLabelErrors.map {
                              ["keyword": $0.keyword, "taken_for": $0.sibling, "images": $0.images, "judged": $0.judged] as [String: Any]
                          }] as [String: Any],
        ]
    }

    /// A human-readable rendering, one stage a block.
    public var text: String {
        var lines: [String] = []
        func reasons(_ map: [String: Int]) {
            for (key, value) in map.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
                lines.append("    \(key): \(value)")
            }
        }
        lines.append("keywords      \(keywords)")
        lines.append("candidates    \(candidates)")
        reasons(candidatesBySource)
        lines.append("downloads     ok \(downloadsOK), failed \(downloadsFailed.values.reduce(0, +))")
        reasons(downloadsFailed)
        lines.append("images        stored \(imagesStored), kept \(imagesKept), dropped \(imagesDropped.values.reduce(0, +))")
        reasons(imagesDropped)
        lines.append("descriptions  accepted \(descriptionsAccepted), rejected \(descriptionsRejected.values.reduce(0, +))")
        reasons(descriptionsRejected)
        lines.append("questions     accepted \(questionsAccepted) (type 1: \(questionsByType["1"] ?? 0), type 2: \(questionsByType["2"] ?? 0)), rejected \(questionsRejected.values.reduce(0, +))")
        reasons(questionsRejected)
        if !questionsDisputed.isEmpty {
            lines.append("              disputed \(questionsDisputed.values.reduce(0, +)) (kept out of training and test)")
            reasons(questionsDisputed)
        }
        if !judgements.isEmpty {
            lines.append("judgements")
            for line in judgements.lines { lines.append("    \(line)") }
        }
        if !reviews.isEmpty { lines.append(reviews.line) }
        lines.append("llm           requests \(llmRequests), cache hits \(llmCacheHits), tokens \(promptTokens) in / \(completionTokens) out")
        if !relevance.isEmpty {
            let rows = relevance.rows.values
            let judged = rows.reduce(0) { $0 + $1.judged }, shown = rows.reduce(0) { $0 + $1.shown }
            let none = rows.reduce(0) { $0 + $1.none }, low = rows.reduce(0) { $0 + $1.lowConfidence }
            lines.append("relevance     judged \(judged), shown as their keyword \(shown), as another keyword \(judged - shown - none - low), as none \(none), unsure \(low)")
            for error in relevance.likelyLabelErrors {
                lines.append("    \(error.keyword): \(error.images) of \(error.judged) taken for \(error.sibling) (likely label error)")
            }
        }
        if trainRuns > 0 || evalResults > 0 {
            lines.append("train runs    \(trainRuns)")
            lines.append("eval results  \(evalResults)")
        }
        return lines.joined(separator: "\n")
    }
}
