import Dataset
import Foundation
import GRDB
import Imaging
import Logging

/// What a filter run decided: counts by rule and per keyword, and what a user should look at.
public struct FilterSummary: Sendable {
    public struct KeywordCounts: Sendable, Equatable {
        public var kept = 0
        public var dropped = 0
    }

    public var decidedThisRun = 0
    /// The run was cancelled (Ctrl-C): the decisions made are recorded, duplicate grouping did not run.
    public var interrupted = false
    /// Images whose judge requests were queued for a batch (`llm.batch`): nothing recorded for them yet, and the
    /// duplicate grouping waits for the pass that has every answer.
    public var deferred = 0
    public var pairs = 0
    public var kept = 0
    /// Pairs a rule could not decide (its judge failed for a reason outside the image): not kept, not dropped,
    /// decided on the next run. Each is also named in `errors`, so the command's exit status says so.
    public var undecided = 0
    public var droppedByRule: [String: Int] = [:]
    public var perKeyword: [String: KeywordCounts] = [:]
    /// Keywords left with fewer kept images than `min_per_keyword`.
    public var thinKeywords: [String: Int] = [:]
    /// The same or a near-identical image under two keywords: a likely label error.
    public var crossKeywordDuplicates: [(sha256: String, keywords: [String])] = []
    /// Undecided pairs, one line each (printed by the command).
    public var errors: [String] = []
    /// What duplicate grouping failed on, one line each (printed by the runner as it happened).
    public var groupingErrors: [String] = []
    public var dryRun = false

    /// Whether anything failed: the command's exit status.
    public var failed: Bool { !errors.isEmpty || !groupingErrors.isEmpty }

    public var json: [String: Any] {
        [
            "dry_run": dryRun, "pairs": pairs, "kept": kept, "undecided": undecided, "dropped": droppedByRule, "decided": decidedThisRun,
            "per_keyword": perKeyword.mapValues { ["kept": $0.kept, "dropped": $0.dropped] },
            "thin_keywords": thinKeywords,
            "cross_keyword_duplicates": crossKeywordDuplicates.map { ["sha256": $0.sha256, "keywords": $0.keywords] as [String: Any] },
            "errors": errors + groupingErrors,
        ]
    }
}

/// Runs the filter: the per-image rules through the shared `StageRunner`, then duplicate grouping per keyword
/// (it needs every image of the keyword at once) — by pHash, then by embedding when asked — then the summary. Decisions of rules that are no longer
/// active are removed, so `status` and the report count what the current recipe decides.
public struct FilterPipeline: Sendable {
    public let workspace: Workspace
    public let settings: FilterSettings
    public let analyzer: any PixelAnalyzing
    public let judge: (any WatermarkJudging)?
    /// The relevance judge, wired by the command when `filter.relevance.enabled`.
    public let relevance: (any RelevanceJudging)?
    public let logger: Logger
    /// About how many candidates the filter holds at once (`KeywordPages`): tests make it tiny.
    var pageCandidates = KeywordPages.candidatesPerPage

    public init(workspace: Workspace, settings: FilterSettings, analyzer: any PixelAnalyzing = PixelAnalyzer(),
                judge: (any WatermarkJudging)?, relevance: (any RelevanceJudging)? = nil, logger: Logger) {
        self.workspace = workspace
        self.settings = settings
        self.analyzer = analyzer
        self.judge = judge
        self.relevance = relevance
        self.logger = logger
    }

    static let duplicatesRule = DuplicatesStage.rule
    static let semanticDuplicatesRule = SemanticDuplicatesStage.rule
    /// The whole-set steps. Each groups the images no per-image rule dropped; neither one's decisions (nor the
    /// undecided rows that hold a new pair for it) take an image out of the other's grouping.
    static let wholeSetRules = [duplicatesRule, semanticDuplicatesRule]

    /// Whether these settings switch on a rule that reads embeddings (`clip_rank`, `semantic_duplicates`).
    public static func needsEmbeddings(_ settings: FilterSettings) -> Bool {
        settings[ClipRankRule.self].enabled || settings.semanticDuplicates
    }

    public func run(runner: StageRunner, dryRun: Bool = false) async throws -> FilterSummary {
        let byproducts = PHashByproducts()
        let siblings = settings.relevance && relevance != nil
            ? KeywordSiblings(keywords: try KeywordStore.all(in: workspace.manifest),
                              taxonomyColumns: settings[RelevanceRule.self].taxonomyColumns)
            : nil
        // The embedding rules read the configured model's stored vectors; asked for without a model, the run stops.
        let embeddings = Self.needsEmbeddings(settings) ? try FilterEmbeddings.load(settings.embeddings, workspace: workspace) : nil
        let rules = settings.rules(analyzer: analyzer, judge: judge, hashes: byproducts, relevance: relevance, siblings: siblings,
                                   embeddings: embeddings)
        if dryRun { return try await dryRunSummary(rules: rules) }
        var wholeSet: [String] = []
        if settings.duplicates { wholeSet.append(Self.duplicatesRule) }
        if settings.semanticDuplicates { wholeSet.append(Self.semanticDuplicatesRule) }
        let active: [String] = rules.map(\.name) + wholeSet
        try workspace.manifest.write { db in
            let placeholders = active.map { _ in "?" }.joined(separator: ",")
            let sql = active.isEmpty ? "DELETE FROM filter_decisions"
                : "DELETE FROM filter_decisions WHERE rule NOT IN (\(placeholders))"
            try db.execute(sql: sql, arguments: StatementArguments(active))
        }
        var stage = FilterRuleStage(root: workspace.root, rules: rules, delay: settings.delayPerImage)
        stage.heldFor = wholeSet
        stage.byproducts = byproducts
        stage.pageCandidates = pageCandidates
        let stageSummary = try await runner.run(stage, concurrency: settings.concurrency, settingsJSON: settings.recordJSON)
        // Exact pHashes of items whose work was cut short after the decode (not recorded with their item).
        let hashed = byproducts.drain()
        if !hashed.isEmpty {
            try workspace.manifest.write { db in
                for (sha, hash) in hashed {
                    try db.execute(sql: "UPDATE images SET phash = ? WHERE sha256 = ? AND phash IS NULL", arguments: [hash, sha])
                }
            }
        }
        var summary = FilterSummary()
        summary.decidedThisRun = stageSummary.pending
        if stageSummary.interrupted || Task.isCancelled {
            summary.interrupted = true
            return try summarize(into: summary)
        }
        if stageSummary.deferred > 0 {
            summary.deferred = stageSummary.deferred
            return try summarize(into: summary)
        }
        if settings.duplicates {
            let stage = DuplicatesStage(root: workspace.root, analyzer: analyzer, settings: settings, pageCandidates: pageCandidates)
            let grouped = try await runner.run(stage, settingsJSON: settings.recordJSON)
            summary.groupingErrors = grouped.result?.errors ?? []
            if grouped.summary.interrupted { summary.interrupted = true }
        }
        if settings.semanticDuplicates, let embeddings, !summary.interrupted {
            let stage = SemanticDuplicatesStage(root: workspace.root, threshold: settings.semanticThreshold, embeddings: embeddings,
                                                pageCandidates: pageCandidates)
            let grouped = try await runner.run(stage, settingsJSON: settings.recordJSON)
            summary.groupingErrors += grouped.result?.missing ?? []
            if grouped.summary.interrupted { summary.interrupted = true }
        }
        var result = try summarize(into: summary)
        // An image grouping could not hash is held undecided under the same words the runner already printed.
        let printed = Set(result.groupingErrors)
        result.errors.removeAll { printed.contains($0) }
        return result
    }

    // MARK: Summary

    /// Counts what the manifest now holds, streaming the decisions (per-keyword counts are what is kept). A pair a
    /// human decided (`dsbuild review`) counts as the human said — kept, or dropped by `human` — as `kept_pairs`
    /// and `status` count it, including a pair a relabel put under a keyword the filter never saw it for.
    private func summarize(into base: FilterSummary) throws -> FilterSummary {
        var summary = base
        try workspace.manifest.read { db in
            let rows = try Row.fetchCursor(db, sql: """
                SELECT d.keyword_id, k.text, MIN(d.pass) AS kept,
                       GROUP_CONCAT(CASE WHEN d.pass = 0 THEN d.rule END) AS dropped_by, MAX(h.decision) AS human
                FROM filter_decisions d JOIN keywords k ON k.id = d.keyword_id
                LEFT JOIN human_pairs h ON h.image_sha256 = d.image_sha256 AND h.keyword_id = d.keyword_id
                GROUP BY d.keyword_id, d.image_sha256
                UNION ALL
                SELECT h.keyword_id, k.text, NULL, NULL, h.decision FROM human_pairs h JOIN keywords k ON k.id = h.keyword_id
                 WHERE NOT EXISTS (SELECT 1 FROM filter_decisions d WHERE d.image_sha256 = h.image_sha256 AND d.keyword_id = h.keyword_id)
                """)
            while let row = try rows.next() {
                let keyword: String = row["text"]
                summary.pairs += 1
                var counts = summary.perKeyword[keyword] ?? .init()
                if let human = row["human"] as String? {
                    if human == "accept" {
                        summary.kept += 1
                        counts.kept += 1
                    } else {
                        counts.dropped += 1
                        summary.droppedByRule[HumanDecision.reason, default: 0] += 1
                    }
                } else if (row["kept"] as Int) == FilterRuleStage.undecidedPass, (row["dropped_by"] as String?) == nil {
                    summary.undecided += 1
                } else if (row["kept"] as Int) == 1 {
                    summary.kept += 1
                    counts.kept += 1
                } else {
                    counts.dropped += 1
                    for rule in (row["dropped_by"] as String? ?? "").split(separator: ",") {
                        summary.droppedByRule[String(rule), default: 0] += 1
                    }
                }
                summary.perKeyword[keyword] = counts
            }
            for row in try Row.fetchAll(db, sql: "SELECT reason FROM filter_decisions WHERE pass = ? ORDER BY image_sha256, keyword_id, rule",
                                        arguments: [FilterRuleStage.undecidedPass]) {
                summary.errors.append(row["reason"] ?? "an image is undecided; run filter again")
            }
            for keyword in try String.fetchAll(db, sql: "SELECT text FROM keywords") {
                let kept = summary.perKeyword[keyword]?.kept ?? 0
                if kept < settings.minPerKeyword { summary.thinKeywords[keyword] = kept }
            }
            // The same image kept under two keywords (counted by SQLite, not by a map of every kept image).
            let shared = try Row.fetchCursor(db, sql: """
                SELECT p.image_sha256, k.text FROM kept_pairs p JOIN keywords k ON k.id = p.keyword_id
                 WHERE p.image_sha256 IN (SELECT image_sha256 FROM kept_pairs GROUP BY image_sha256 HAVING COUNT(*) > 1)
                 ORDER BY p.image_sha256
                """)
            var current: (sha256: String, keywords: [String])?
            while let row = try shared.next() {
                let sha: String = row["image_sha256"]
                if current?.sha256 != sha {
                    if let done = current { summary.crossKeywordDuplicates.append((done.sha256, done.keywords.sorted())) }
                    current = (sha, [])
                }
                current?.keywords.append(row["text"])
            }
            if let done = current { summary.crossKeywordDuplicates.append((done.sha256, done.keywords.sorted())) }
        }
        return summary
    }

    private func dryRunSummary(rules: [any FilterRule]) async throws -> FilterSummary {
        var summary = FilterSummary()
        summary.dryRun = true
        var cursor: Int64? = nil
        repeat {
            let (subjects, next) = try workspace.manifest.read { db -> ([FilterSubject], Int64?) in
                guard let page = try KeywordPages.next(db, after: cursor, limit: pageCandidates) else { return ([], nil) }
                return (try FilterSubjects.load(db, root: workspace.root, keywords: page.ids), page.more ? page.ids.upperBound : nil)
            }
            cursor = next
            for subject in subjects {
                summary.pairs += 1
                var counts = summary.perKeyword[subject.keyword] ?? .init()
                var dropped = false
                var undecided: String?
                // As a real run: the judges last, and only about pairs no other rule drops; a pair a rule cannot
                // decide is not kept (and named, so the exit status says so), and a judge that stops a run stops it.
                for rule in rules.filter({ !$0.asksModel }) + rules.filter(\.asksModel) {
                    if rule.asksModel && dropped { continue }
                    let decision = await rule.decide(subject)
                    if decision.stopsRun { throw FilterStopped(rule: rule.name, reason: decision.reason, runStatus: decision.stopStatus) }
                    if decision.undecided {
                        undecided = undecided ?? decision.reason
                    } else if !decision.pass {
                        summary.droppedByRule[rule.name, default: 0] += 1
                        dropped = true
                    }
                }
                if dropped {
                    counts.dropped += 1
                } else if let undecided {
                    summary.undecided += 1
                    summary.errors.append(undecided)
                } else {
                    counts.kept += 1
                    summary.kept += 1
                }
                summary.perKeyword[subject.keyword] = counts
            }
        } while cursor != nil
        return summary
    }
}
