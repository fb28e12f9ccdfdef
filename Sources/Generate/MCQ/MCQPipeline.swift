import Dataset
import Foundation
import GRDB

/// The steps of `mcq` that are not model calls: the split, Type 1 building, dedup and answer
/// placement (question files: `MCQFiles`). Each runs through the runner as a `WholeSetStage` (`SplitStage`,
/// `Type1Stage`, `FinalizeStage`); `MCQRun` puts them in order with Type 2 and the blind check.
///
/// Answer keys are stable by construction: a question is created once (Type 1 only builds ids not stored yet;
/// Type 2 only writes pending ones), its letters are balanced once, in `finalize`, over the set created since the
/// last finalize, and a placed question's options, answer, split and status are never touched again unless
/// `--refresh` re-derives everything.
public enum MCQPipeline {
    public struct Counts: Sendable, Equatable {
        public var type1Accepted = 0
        public var type1Rejected = 0
        public var duplicates = 0
        public var total = 0
        public var test = 0
        public var histogram: [Int] = []
        /// Questions placed by this finalize (created since the last one).
        public var created = 0
        /// Answer letters of the questions created now, per "type<T>/<split>".
        public var createdHistogram: [String: [Int]] = [:]

        public init() {}
    }

    /// Splits the experiment (`ExperimentSplit.assign`): places newly kept images and keywords with the stored
    /// settings. With `refresh`, re-splits and deletes every generated question (and their answer-key verdicts), so
    /// all are derived and verified again.
    public static func assignSplit(_ settings: SplitSettings, refresh: Bool, manifest: Manifest) throws -> ExperimentSplit.Assignment {
        try manifest.write { db in
            if refresh {
                try db.execute(sql: "DELETE FROM questions WHERE origin = 'generated'")
                // Their answer-key verdicts go with them: the questions derived again are judged again.
                try JudgementRow.filter(Column("judge") == Judge.answerKey.rawValue).deleteAll(db)
            }
            return try ExperimentSplit.assign(settings, refresh: refresh, in: db)
        }
    }

    /// Builds and stores the Type 1 questions that do not exist yet (rejected ones with their reason). A stored
    /// question — accepted, rejected by a check or by `--drop-leaky` — is never built again.
    public static func buildType1(settings: MCQSettings, manifest: Manifest) throws -> Counts {
        try manifest.write { db in
            try ExperimentSplit.assign(settings.split, in: db)
            var counts = Counts()
            let stored = try QuestionStore.reasons(type: 1, in: db)
            for (q, rejection) in try Type1Builder.build(settings: settings, in: db) {
                // A stored question stays as it is; only a keyword that had too few siblings and now has enough
                // (keywords were added) gets its question.
                if let reason = stored[q.id], reason != Type1Builder.tooFewSiblings || rejection != nil { continue }
                if let rejection {
                    var q = q
                    q.extra = JSONText.encodeObject(["detail": rejection.1])
                    try QuestionStore.save(q, status: "rejected", reason: rejection.0, in: db)
                    counts.type1Rejected += 1
                } else {
                    try QuestionStore.save(q, placed: false, in: db)
                    counts.type1Accepted += 1
                }
            }
            return counts
        }
    }

    /// Over the questions created since the last finalize: drops duplicates (normalised stem + sorted options;
    /// near-duplicate Type 2 stems of one keyword) of stored questions and of each other, then balances their
    /// answer letters per type and split (permuting, never dropping) and fixes them. Stored questions are only read.
    public static func finalize(settings: MCQSettings, manifest: Manifest) throws -> Counts {
        try manifest.write { db in
            var counts = Counts()
            let fresh = try QuestionStore.unplacedIDs(in: db)
            // Disputed questions are stored questions too: a new question must not duplicate one.
            let all = try QuestionStore.accepted(origin: "generated", includingDisputed: true, in: db)
            var seen = Set<String>()
            var stems: [Int64: [Set<String>]] = [:]
            var created: [Question] = []
            // Stored (placed) questions first, so a new question never displaces one already stored.
            let ordered = all.filter { !fresh.contains($0.id) }.sorted { $0.id < $1.id } + all.filter { fresh.contains($0.id) }.sorted { $0.id < $1.id }
            for q in ordered {
                let key = MCQValidator.normalize(q.question) + "|" + q.options.map(MCQValidator.normalize).sorted().joined(separator: "|")
                var duplicate = seen.contains(key)
                if !duplicate, q.type == 2, let keyword = q.keywordID {
                    let shingles = NearDuplicate.shingles(q.question)
                    duplicate = stems[keyword, default: []].contains { NearDuplicate.jaccard($0, shingles) >= 0.8 }
                    stems[keyword, default: []].append(shingles)
                }
                guard fresh.contains(q.id) else { seen.insert(key); continue }
                if duplicate {
                    try QuestionStore.reject(id: q.id, reason: "duplicate", in: db)
                    counts.duplicates += 1
                    continue
                }
                seen.insert(key)
                created.append(q)
            }
            let now = Date().timeIntervalSince1970
            let groups = Dictionary(grouping: created) { "type\($0.type)/\($0.split ?? QuestionRow.defaultSplit)" }
            for (name, questions) in groups.sorted(by: { $0.key < $1.key }) {
                // Two questions of one image keep distinct letters (Type 1 with per_image > 1).
                let balanced = AnswerBalancer.rebalance(questions) { $0.type == 1 ? KeywordImage(keywordID: $0.keywordID ?? 0, sha256: $0.imageSHA256 ?? "") : nil }
                for q in balanced { try QuestionStore.place(q, at: now, in: db) }
                counts.createdHistogram[name] = AnswerBalancer.histogram(balanced)
                counts.created += balanced.count
            }
            let accepted = try QuestionStore.accepted(origin: "generated", in: db)
            counts.total = accepted.count
            counts.test = accepted.filter { $0.split == "test" }.count
            counts.histogram = AnswerBalancer.histogram(accepted)
            return counts
        }
    }
}
