import Dataset
import Foundation
import GRDB

/// What the manifest says about how the dataset was built, for the card and the Croissant metadata: sources,
/// filter rules with their thresholds and drop counts, the models and prompt templates that wrote the texts, the
/// judges' verdicts, the funnel, the categories and the split.
struct CardFacts {
    struct Rule { var rule: String; var threshold: String; var judged: Int; var dropped: Int }
    struct Writer { var stage: String; var model: String; var template: String; var detail: String; var count: Int }

    var status: StatusReport
    var sources: [(source: String, candidates: Int)] = []
    var rules: [Rule] = []
    var writers: [Writer] = []
    var judges: [String] = []
    /// Category → (keywords, kept images).
    var categories: [(category: String, keywords: Int, images: Int)] = []
    var keywordLanguages: [String] = []
    var split: SplitSettings?
    var testImages = 0
    var testKeywords = 0

    static func load(_ manifest: Manifest) throws -> CardFacts {
        try manifest.read { db in
            var facts = CardFacts(status: try StatusReport.compute(db))
            facts.sources = facts.status.candidatesBySource.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            facts.rules = try Row.fetchAll(db, sql: """
                SELECT rule, COALESCE(threshold, '') AS threshold, COUNT(*) AS judged, SUM(pass = 0) AS dropped
                  FROM filter_decisions GROUP BY rule, threshold ORDER BY rule, threshold
                """).map { Rule(rule: $0["rule"], threshold: $0["threshold"], judged: $0["judged"], dropped: $0["dropped"] ?? 0) }
            facts.writers = try Row.fetchAll(db, sql: """
                SELECT 'describe' AS stage, model, template_sha256, aspect || ' / ' || mode AS detail, COUNT(*) AS n
                  FROM descriptions WHERE status = 'accepted' GROUP BY model, template_sha256, aspect, mode
                UNION ALL
                SELECT 'mcq', COALESCE(model, ''), COALESCE(template_sha256, ''), 'type ' || type, COUNT(*)
                  FROM questions WHERE status = 'accepted' AND origin = 'generated' GROUP BY model, template_sha256, type
                ORDER BY 1, 2, 3, 4
                """).map { Writer(stage: $0[0], model: $0[1], template: $0[2], detail: $0[3], count: $0[4]) }
            facts.judges = facts.status.judgements.lines
            facts.categories = try Row.fetchAll(db, sql: """
                SELECT COALESCE(k.category, '(none)') AS category, COUNT(DISTINCT k.id) AS keywords,
                       COUNT(DISTINCT kp.image_sha256) AS images
                  FROM keywords k LEFT JOIN kept_pairs kp ON kp.keyword_id = k.id
                 GROUP BY 1 ORDER BY 1
                """).map { ($0[0], $0[1], $0[2]) }
            facts.keywordLanguages = try String.fetchAll(db, sql: "SELECT DISTINCT language FROM keywords WHERE language IS NOT NULL AND language != '' ORDER BY 1")
            facts.split = try ExperimentSplit.storedSettings(in: db)
            facts.testImages = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT image_sha256) FROM splits WHERE image_sha256 != '' AND split = 'test'") ?? 0
            facts.testKeywords = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM splits WHERE image_sha256 = '' AND split = 'test'") ?? 0
            return facts
        }
    }
}
