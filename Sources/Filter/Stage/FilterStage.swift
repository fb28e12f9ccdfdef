import Dataset
import Foundation
import GRDB

/// The per-image part of the filter as a `Stage`: pending = (image, keyword) pairs lacking a decision of some
/// active rule under its current settings; work = run those rules; record = upsert their decisions.
struct FilterRuleStage: Stage {
    struct Item: Sendable {
        let subject: FilterSubject
        let rules: [any FilterRule]
    }

    struct Outcome: Sendable {
        let decisions: [(rule: String, hash: String, decision: RuleDecision)]
    }

    let name = "filter"
    let root: URL
    let rules: [any FilterRule]
    var delay: Duration = .zero
    /// Duplicate grouping is on: a pair the rules decide for the first time gets an undecided `duplicates` row
    /// until grouping decides it, so a run cut short between the rules and grouping leaves it not kept (and
    /// pending), never kept without its duplicates check.
    var holdsForDuplicates = false

    func pending(in manifest: Manifest) async throws -> [Item] {
        let rules = self.rules
        let root = self.root
        // A rule's settings hash is a digest of its settings: computed once here, not once per image.
        let current = rules.map { RuleVersion(rule: $0.name, settingsHash: $0.settingsHash) }
        return try await manifest.asyncRead { db in
            let subjects = try FilterSubjects.load(db, root: root)
            var existing: [KeywordImage: Set<RuleVersion>] = [:]
            let rows = try Row.fetchCursor(db, sql: "SELECT image_sha256, keyword_id, rule, settings_hash FROM filter_decisions")
            while let row = try rows.next() {
                existing[KeywordImage(keywordID: row["keyword_id"], sha256: row["image_sha256"]), default: []]
                    .insert(RuleVersion(rule: row["rule"], settingsHash: row["settings_hash"]))
            }
            return subjects.compactMap { subject in
                let done = existing[subject.pair] ?? []
                let stale = rules.indices.filter { !done.contains(current[$0]) }.map { rules[$0] }
                return stale.isEmpty ? nil : Item(subject: subject, rules: stale)
            }
        }
    }

    func work(on item: Item) async throws -> Outcome {
        if delay > .zero { try await Task.sleep(for: delay) }
        var decisions: [(String, String, RuleDecision)] = []
        for rule in item.rules {
            let decision = await rule.decide(item.subject)
            // Nothing is recorded for this image (it stays pending); the run stops with the rule's reason.
            if decision.stopsRun { throw FilterStopped(rule: rule.name, reason: decision.reason) }
            decisions.append((rule.name, rule.settingsHash, decision))
        }
        return Outcome(decisions: decisions)
    }

    func record(_ outcome: Outcome, for item: Item, in db: Database, run: StageRun) throws {
        let now = Date().timeIntervalSince1970
        for (rule, hash, d) in outcome.decisions {
            // Undecided: stored so the pair is not kept meanwhile, under a hash no rule has, so it stays pending.
            let (hash, pass) = d.undecided ? (Self.undecidedHash, Self.undecidedPass) : (hash, d.pass ? 1 : 0)
            try FilterDecisionRow(pair: item.subject.pair, rule: rule, settingsHash: hash, pass: pass, value: d.value,
                                  threshold: d.threshold, reason: d.reason, decidedAt: now).upsert(db)
        }
        if holdsForDuplicates {
            try FilterDecisionRow(pair: item.subject.pair, rule: DuplicatesStage.rule, settingsHash: Self.undecidedHash,
                                  pass: Self.undecidedPass, value: "undecided", threshold: "",
                                  reason: "\(item.subject.keyword) \(item.subject.sha256.prefix(12)): not grouped for duplicates yet; run filter again",
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
