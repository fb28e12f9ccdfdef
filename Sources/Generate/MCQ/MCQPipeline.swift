import Dataset
import Foundation
import GRDB

/// The steps of `mcq` that are not model calls: Type 1 building, dedup, balancing, and splits (files: `MCQFiles`).
public enum MCQPipeline {
    public struct Counts: Sendable, Equatable {
        public var type1Accepted = 0
        public var type1Rejected = 0
        public var duplicates = 0
        public var total = 0
        public var test = 0
        public var histogram: [Int] = []
    }

    /// Builds and stores the Type 1 questions (rejected ones with their reason).
    public static func buildType1(settings: MCQSettings, manifest: Manifest) throws -> Counts {
        try manifest.write { db in
            var counts = Counts()
            for (q, rejection) in try Type1Builder.build(settings: settings, in: db) {
                if let rejection {
                    var q = q
                    q.extra = JSONText.encodeObject(["detail": rejection.1])
                    try QuestionStore.save(q, status: "rejected", reason: rejection.0, in: db)
                    counts.type1Rejected += 1
                } else {
                    try QuestionStore.save(q, in: db)
                    counts.type1Accepted += 1
                }
            }
            return counts
        }
    }

    /// Over every accepted generated question: drops duplicates (normalised stem + sorted options; near-duplicate
    /// Type 2 stems of one keyword), rebalances answer letters (permuting, never dropping), assigns splits.
    public static func finalize(settings: MCQSettings, manifest: Manifest) throws -> Counts {
        try manifest.write { db in
            var counts = Counts()
            let all = try QuestionStore.accepted(origin: "generated", in: db)
            var seen = Set<String>()
            var stems: [Int64: [Set<String>]] = [:]
            var kept: [MCQuestion] = []
            for q in all.sorted(by: { $0.id < $1.id }) {
                let key = MCQValidator.normalize(q.question) + "|" + q.options.map(MCQValidator.normalize).sorted().joined(separator: "|")
                var duplicate = seen.contains(key)
                if !duplicate, q.type == 2, let keyword = q.keywordID {
                    let shingles = NearDuplicate.shingles(q.question)
                    duplicate = stems[keyword, default: []].contains { NearDuplicate.jaccard($0, shingles) >= 0.8 }
                    stems[keyword, default: []].append(shingles)
                }
                if duplicate {
                    try QuestionStore.save(q, status: "rejected", reason: "duplicate", in: db)
                    counts.duplicates += 1
                    continue
                }
                seen.insert(key)
                kept.append(q)
            }
            for var q in AnswerBalancer.balance(kept, seed: settings.seed) {
                let unit = settings.splitBy == "image" && !q.imageSHA256.isEmpty ? q.imageSHA256 : "\(q.keywordID ?? 0)"
                var generator = SeededGenerator(text: "split|\(settings.seed)|\(unit)")
                q.split = Double(generator.next() >> 11) / Double(1 << 53) < settings.testFraction ? "test" : "train"
                if q.split == "test" { counts.test += 1 }
                try QuestionStore.save(q, in: db)
            }
            counts.total = kept.count
            counts.histogram = AnswerBalancer.histogram(kept.isEmpty ? [] : try QuestionStore.accepted(origin: "generated", in: db))
            return counts
        }
    }
}
