import Dataset
import Foundation
import GRDB
import Imaging

/// Semantic duplicate grouping, the filter's second whole-set rule: within each keyword, of every group of images
/// whose embeddings (`dsbuild embed`) meet at cosine ≥ `filter.semantic_duplicates.threshold`, the best is kept —
/// the same "best" as the pHash grouping (`DuplicateGrouping.keepBest`) — and the others are dropped as its
/// duplicates. It finds what a pHash misses: a crop, a re-framing, a colour-graded copy. Images a per-image rule
/// dropped take no part (the pHash grouping's decisions do not count: the two groupings are independent); an image without an embedding is held undecided (a failure naming `dsbuild embed`). A keyword's
/// decisions are replaced in one transaction, a page of keywords at a time (`KeywordPages`).
struct SemanticDuplicatesStage: WholeSetStage {
    /// The rule name its decisions are recorded under.
    static let rule = "semantic_duplicates"

    struct Result: Sendable {
        var keywords = 0
        var cutShort = false
        var kept = 0
        var dropped = 0
        /// One line per image held undecided for want of an embedding.
        var missing: [String] = []
    }

    let name = "filter.semantic_duplicates"
    let root: URL
    let threshold: Double
    let embeddings: FilterEmbeddings
    let pageCandidates: Int

    init(root: URL, threshold: Double, embeddings: FilterEmbeddings, pageCandidates: Int = KeywordPages.candidatesPerPage) {
        self.root = root
        self.threshold = threshold
        self.embeddings = embeddings
        self.pageCandidates = pageCandidates
    }

    func counts(of result: Result) -> [String: Int] {
        ["keywords": result.keywords, "kept": result.kept, "dropped": result.dropped, "without_embedding": result.missing.count]
    }

    func failures(in result: Result) -> [String] { result.missing }

    func isComplete(_ result: Result) -> Bool { !result.cutShort }

    /// The settings its decisions are stored under: the threshold and the model.
    var settingsHash: String { ContentHash.sha256Hex("\(Self.rule)|\(threshold)|\(embeddings.modelID)") }

    func run(in context: StageContext) async throws -> Result {
        var result = Result()
        let manifest = context.manifest
        let total = try manifest.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT c.keyword_id) FROM downloads d JOIN candidates c ON c.id = d.candidate_id WHERE d.status = 'ok'") ?? 0
        }
        context.progress.start("semantic duplicates", total: total)
        defer { context.progress.finish() }
        var cursor: Int64? = nil
        repeat {
            if Task.isCancelled { result.cutShort = true; break }
            guard let page = try manifest.read({ db in try KeywordPages.next(db, after: cursor, limit: pageCandidates) }) else { break }
            cursor = page.more ? page.ids.upperBound : nil
            try group(keywords: page.ids, context: context, into: &result)
        } while cursor != nil && !result.cutShort
        return result
    }

    /// Groups the keywords of one page, replacing each keyword's decisions in one transaction.
    private func group(keywords: ClosedRange<Int64>, context: StageContext, into result: inout Result) throws {
        let manifest = context.manifest
        let (subjects, failing, vectors) = try manifest.read { db -> ([FilterSubject], Set<KeywordImage>, [String: [Float]]) in
            let subjects = try FilterSubjects.load(db, root: root, keywords: keywords)
            let failing = Set(try FilterDecisionRow
                .filter(Column("keyword_id") >= keywords.lowerBound && Column("keyword_id") <= keywords.upperBound)
                .filter(Column("pass") != 1 && !FilterPipeline.wholeSetRules.contains(Column("rule"))).fetchAll(db).map(\.pair))
            let vectors = try embeddings.lookup?.vectors.images(subjects.map(\.sha256), in: db) ?? [:]
            return (subjects, failing, vectors)
        }
        let threshold = Float(self.threshold)
        let settingsHash = self.settingsHash
        let now = Date().timeIntervalSince1970
        for (keywordID, members) in Dictionary(grouping: subjects, by: \.keywordID).sorted(by: { $0.key < $1.key }) {
            if Task.isCancelled { result.cutShort = true; return }
            let candidates = members.filter { !failing.contains($0.pair) }
            let embedded = candidates.filter { vectors[$0.sha256] != nil }
            let verdicts = DuplicateGrouping.keepBest(embedded, quality: {
                DuplicateGrouping.Quality(sha256: $0.sha256, pixels: $0.probe.width * $0.probe.height, searchRank: $0.searchRank)
            }) { kept, candidate -> Float? in
                let cosine = CosineIndex<Int>.cosine(vectors[kept.sha256]!, vectors[candidate.sha256]!)
                return cosine >= threshold ? cosine : nil
            }
            let missing = candidates.filter { vectors[$0.sha256] == nil }
            try manifest.write { db in
                try db.execute(sql: "DELETE FROM filter_decisions WHERE keyword_id = ? AND rule = ?", arguments: [keywordID, Self.rule])
                for (sha, match) in verdicts {
                    let decision = self.decision(match)
                    if decision.pass { result.kept += 1 } else { result.dropped += 1 }
                    try FilterDecisionRow(pair: KeywordImage(keywordID: keywordID, sha256: sha), rule: Self.rule, settingsHash: settingsHash,
                                          pass: decision.pass ? 1 : 0, value: decision.value, threshold: decision.threshold,
                                          reason: decision.reason, decidedAt: now).insert(db)
                }
                for member in missing {
                    let message = "image \(member.sha256.prefix(12)) (\(member.keyword)): semantic duplicates undecided, the image has no embedding under \(embeddings.folder.lastPathComponent); run `dsbuild embed`"
                    result.missing.append(message)
                    try FilterDecisionRow(pair: member.pair, rule: Self.rule, settingsHash: FilterRuleStage.undecidedHash,
                                          pass: FilterRuleStage.undecidedPass, value: "undecided", threshold: "", reason: message,
                                          decidedAt: now).insert(db)
                }
            }
            result.keywords += 1
            context.progress.advance()
        }
    }

    /// The recorded decision for one image: kept, or the duplicate of an image at a cosine.
    func decision(_ match: (of: String, measure: Float)?) -> RuleDecision {
        let threshold = ">= \(Self.format(self.threshold))"
        guard let match else {
            return .keep("unique", threshold, "no semantic duplicate at cosine \(threshold)")
        }
        let cosine = Self.format(Double(match.measure))
        return .drop(cosine, threshold, "semantic duplicate of \(match.of.prefix(12)) (cosine \(cosine) \(threshold))")
    }

    static func format(_ value: Double) -> String { String(format: "%.4f", value) }
}
