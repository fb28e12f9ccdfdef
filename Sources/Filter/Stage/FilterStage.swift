import Dataset
import Foundation
import GRDB

/// The per-image part of the filter as a `Stage`: pending = (image, keyword) pairs lacking a decision of some
/// active rule under its current settings, a page of keywords at a time; work = run those rules; record =
/// upsert their decisions (and the exact pHash the integrity decode produced on the way).
///
/// A rule that asks a model (`FilterRule.asksModel`: a judge) is run after the others and only while no rule has
/// dropped the pair — no model call is paid for an image a size or format rule already drops — and a pair some
/// current decision drops needs no decision of it (it is not pending for it, and an outdated one is removed).
struct FilterRuleStage: PagedStage {
    struct Item: Sendable {
        let subject: FilterSubject
        /// The rules to run: those without a current decision, the ones asking a model last.
        let rules: [any FilterRule]
        /// A current stored decision of another rule already drops the pair.
        let alreadyDropped: Bool
    }

    struct Outcome: Sendable {
        let decisions: [(rule: String, hash: String, decision: RuleDecision)]
        /// Judges not asked because the pair is dropped: their outdated decisions are removed.
        var notAsked: [String] = []
    }

    let name = "filter"
    let root: URL
    let rules: [any FilterRule]
    var delay: Duration = .zero
    /// The whole-set rules that run after this stage (`duplicates`, `semantic_duplicates`): a pair the rules decide
    /// for the first time gets an undecided row of each until its grouping decides it, so a run cut short between
    /// the rules and grouping leaves it not kept (and pending), never kept without its duplicates check.
    var heldFor: [String] = []
    /// Where the integrity rule leaves the exact pHashes its decodes yield: each is stored with its image's
    /// decisions, so duplicate grouping does not decode again and nothing accumulates over the run.
    var byproducts: PHashByproducts?
    /// About how many candidates a page of pending pairs covers (`KeywordPages`).
    var pageCandidates = KeywordPages.candidatesPerPage

    /// The rules' current versions: a stored decision is current when it is one of these.
    private var currentVersions: [RuleVersion] {
        // A rule's settings hash is a digest of its settings: computed once per page, not once per image.
        rules.map { RuleVersion(rule: $0.name, settingsHash: $0.settingsHash) }
    }

    func pendingCount(in manifest: Manifest) async throws -> Int {
        let current = currentVersions
        guard !current.isEmpty else { return 0 }
        let judged = rules.map(\.asksModel)
        let judges = judged.filter { $0 }.count
        return try await manifest.asyncRead { db in
            let versions = current.map { _ in "(?, ?, ?)" }.joined(separator: ", ")
            var arguments: StatementArguments = []
            for (version, asks) in zip(current, judged) { arguments += [version.rule, version.settingsHash, asks ? 1 : 0] }
            arguments += [current.count - judges]
            func decisions(judged: Int, extra: String = "") -> String {
                """
                (SELECT COUNT(*) FROM filter_decisions f JOIN current_rules r
                    ON r.rule = f.rule AND r.settings_hash = f.settings_hash AND r.judged = \(judged)
                  WHERE f.image_sha256 = p.image_sha256 AND f.keyword_id = p.keyword_id\(extra))
                """
            }
            // A judge's decision is wanted only while no current decision drops the pair.
            var judgesWanted = ""
            if judges > 0 {
                judgesWanted = " OR (\(decisions(judged: 1)) < ? AND \(decisions(judged: 0, extra: " AND f.pass = 0")) + \(decisions(judged: 1, extra: " AND f.pass = 0")) = 0)"
                arguments += [judges]
            }
            return try Int.fetchOne(db, sql: """
                WITH current_rules(rule, settings_hash, judged) AS (VALUES \(versions)),
                     pairs AS (SELECT DISTINCT c.keyword_id, d.image_sha256 FROM downloads d
                                 JOIN candidates c ON c.id = d.candidate_id
                                 JOIN images i ON i.sha256 = d.image_sha256
                                WHERE d.status = 'ok')
                SELECT COUNT(*) FROM pairs p WHERE \(decisions(judged: 0)) < ?\(judgesWanted)
                """, arguments: arguments) ?? 0
        }
    }

    /// The pairs of the next keywords (`KeywordPages`) that lack a current decision of some active rule.
    func pendingPage(in manifest: Manifest, after cursor: Int64?) async throws -> PendingPage<Item, Int64> {
        let rules = self.rules
        let root = self.root
        let current = currentVersions
        let pageCandidates = self.pageCandidates
        return try await manifest.asyncRead { db in
            guard let page = try KeywordPages.next(db, after: cursor, limit: pageCandidates) else { return PendingPage(items: [], next: nil) }
            let subjects = try FilterSubjects.load(db, root: root, keywords: page.ids)
            var existing: [KeywordImage: Set<RuleVersion>] = [:]
            var dropped: Set<KeywordImage> = []
            let currentSet = Set(current)
            let rows = try Row.fetchCursor(db, sql: """
                SELECT image_sha256, keyword_id, rule, settings_hash, pass FROM filter_decisions WHERE keyword_id BETWEEN ? AND ?
                """, arguments: [page.ids.lowerBound, page.ids.upperBound])
            while let row = try rows.next() {
                let pair = KeywordImage(keywordID: row["keyword_id"], sha256: row["image_sha256"])
                let version = RuleVersion(rule: row["rule"], settingsHash: row["settings_hash"])
                existing[pair, default: []].insert(version)
                if (row["pass"] as Int) == 0, currentSet.contains(version) { dropped.insert(pair) }
            }
            let items: [Item] = subjects.compactMap { subject in
                let done = existing[subject.pair] ?? []
                let stale = rules.indices.filter { !done.contains(current[$0]) }.map { rules[$0] }
                let alreadyDropped = dropped.contains(subject.pair)
                // Judges last; none at all for a pair a current decision drops.
                let ordered = stale.filter { !$0.asksModel } + (alreadyDropped ? [] : stale.filter(\.asksModel))
                return ordered.isEmpty ? nil : Item(subject: subject, rules: ordered, alreadyDropped: alreadyDropped)
            }
            return PendingPage(items: items, next: page.more ? page.ids.upperBound : nil)
        }
    }

    func work(on item: Item) async throws -> Outcome {
        if delay > .zero { try await Task.sleep(for: delay) }
        var decisions: [(String, String, RuleDecision)] = []
        var notAsked: [String] = []
        var dropped = item.alreadyDropped
        for rule in item.rules {
            if rule.asksModel && dropped {
                notAsked.append(rule.name)
                continue
            }
            let decision = await rule.decide(item.subject)
            // Queued for a batch: nothing is recorded for this image (the runner counts it deferred).
            if decision.deferred { throw ChatError(.deferred, decision.reason) }
            // Nothing is recorded for this image (it stays pending); the run stops with the rule's reason.
            if decision.stopsRun { throw FilterStopped(rule: rule.name, reason: decision.reason, runStatus: decision.stopStatus) }
            decisions.append((rule.name, rule.settingsHash, decision))
            if !decision.pass && !decision.undecided { dropped = true }
        }
        return Outcome(decisions: decisions, notAsked: notAsked)
    }

    func record(_ outcome: Outcome, for item: Item, in db: Database, run: StageRun) throws {
        let now = Date().timeIntervalSince1970
        for (rule, hash, d) in outcome.decisions {
            // Undecided: stored so the pair is not kept meanwhile, under a hash no rule has, so it stays pending.
            let (hash, pass) = d.undecided ? (Self.undecidedHash, Self.undecidedPass) : (hash, d.pass ? 1 : 0)
            try FilterDecisionRow(pair: item.subject.pair, rule: rule, settingsHash: hash, pass: pass, value: d.value,
                                  threshold: d.threshold, reason: d.reason, decidedAt: now).upsert(db)
        }
        for rule in outcome.notAsked {
            try db.execute(sql: "DELETE FROM filter_decisions WHERE image_sha256 = ? AND keyword_id = ? AND rule = ?",
                           arguments: [item.subject.sha256, item.subject.keywordID, rule])
        }
        if let hash = byproducts?.take(item.subject.sha256) {
            try db.execute(sql: "UPDATE images SET phash = ? WHERE sha256 = ? AND phash IS NULL", arguments: [hash, item.subject.sha256])
        }
        for rule in heldFor {
            try FilterDecisionRow(pair: item.subject.pair, rule: rule, settingsHash: Self.undecidedHash,
                                  pass: Self.undecidedPass, value: "undecided", threshold: "",
                                  reason: "\(item.subject.keyword) \(item.subject.sha256.prefix(12)): not grouped for \(rule) yet; run filter again",
                                  decidedAt: now).insert(db, onConflict: .ignore)
        }
    }

    /// A rule under one version of its settings: a stored decision is current when its rule's is.
    struct RuleVersion: Hashable {
        let rule: String
        let settingsHash: String
    }

    /// The settings hash an undecided row is stored under (no rule's hash is this, so the pair is pending again).
    static let undecidedHash = "undecided"
    /// The `pass` value of an undecided row: neither a pass (1) nor a drop (0).
    static let undecidedPass = -1

    func classify(_ outcome: Outcome) -> StageOutcomeClass {
        if let undecided = outcome.decisions.first(where: { $0.decision.undecided }) {
            return StageOutcomeClass(key: "undecided_\(undecided.rule)", failed: true,
                                     message: undecided.decision.reason)
        }
        if let dropped = outcome.decisions.first(where: { !$0.decision.pass }) {
            return StageOutcomeClass(key: "dropped_\(dropped.rule)")
        }
        return StageOutcomeClass(key: "kept")
    }
}
