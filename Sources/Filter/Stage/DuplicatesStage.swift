import Dataset
import Foundation
import GRDB

/// Near-duplicate grouping, the filter's whole-set rule: within each keyword, of every group of images whose
/// pHashes lie within `filter.duplicates.phash_distance`, the best is kept (`DuplicateGrouping`) and the others
/// are dropped as its duplicates. Images a per-image rule dropped take no part (the semantic grouping's decisions do
/// not count: the two groupings are independent). Missing pHashes are computed first
/// (with `concurrency` in flight) and cached in `images`; a keyword's decisions are replaced in one transaction.
/// It works a page of keywords at a time (`KeywordPages`), so what it holds does not grow with the manifest.
struct DuplicatesStage: WholeSetStage {
    /// The rule name its decisions are recorded under.
    static let rule = "duplicates"

    struct Result: Sendable {
        /// Keywords grouped.
        var keywords = 0
        /// Cancelled before every keyword was grouped.
        var cutShort = false
        var kept = 0
        var dropped = 0
        var hashed = 0
        /// One line per image whose pHash could not be computed (it is not grouped).
        var errors: [String] = []
    }

    let name = "filter.duplicates"
    let root: URL
    let analyzer: (any PixelAnalyzing)?
    let settings: FilterSettings
    /// About how many candidates a page of keywords covers (`KeywordPages`).
    let pageCandidates: Int

    init(root: URL, analyzer: (any PixelAnalyzing)?, settings: FilterSettings, pageCandidates: Int = KeywordPages.candidatesPerPage) {
        self.root = root
        self.analyzer = analyzer
        self.settings = settings
        self.pageCandidates = pageCandidates
    }

    func counts(of result: Result) -> [String: Int] {
        ["keywords": result.keywords, "kept": result.kept, "dropped": result.dropped, "hashed": result.hashed,
         "hash_failures": result.errors.count]
    }

    func failures(in result: Result) -> [String] { result.errors }

    func isComplete(_ result: Result) -> Bool { !result.cutShort }

    func run(in context: StageContext) async throws -> Result {
        var result = Result()
        guard let analyzer else {
            result.errors = ["duplicates: no pixel analyzer available; near-duplicate detection skipped"]
            return result
        }
        let manifest = context.manifest
        let total = try manifest.read { db in
            try Int.fetchOne(db, sql: """
                SELECT COUNT(DISTINCT c.keyword_id) FROM downloads d JOIN candidates c ON c.id = d.candidate_id
                  JOIN images i ON i.sha256 = d.image_sha256 WHERE d.status = 'ok'
                """) ?? 0
        }
        context.progress.start(settings.phashMode == .exact ? "duplicates" : "duplicates (fast pHash)", total: total)
        defer { context.progress.finish() }
        // A page of keywords at a time (`KeywordPages`): its pairs, hashes and decisions are all that is held.
        var cursor: Int64? = nil
        repeat {
            if Task.isCancelled { result.cutShort = true; break }
            guard let page = try manifest.read({ db in try KeywordPages.next(db, after: cursor, limit: pageCandidates) }) else { break }
            cursor = page.more ? page.ids.upperBound : nil
            try await group(keywords: page.ids, analyzer: analyzer, context: context, into: &result)
        } while cursor != nil && !result.cutShort
        return result
    }

    /// Groups the keywords of one page: hashes what has no pHash yet, then replaces each keyword's decisions in
    /// one transaction. Cut short while hashing, it groups none of them (grouping then would judge keywords on
    /// some of their images).
    private func group(keywords: ClosedRange<Int64>, analyzer: any PixelAnalyzing, context: StageContext,
                       into result: inout Result) async throws {
        let manifest = context.manifest
        let column = settings.phashMode.column
        let (subjects, failing, stored) = try manifest.read { db -> ([FilterSubject], Set<KeywordImage>, [String: String]) in
            let subjects = try FilterSubjects.load(db, root: root, keywords: keywords)
            let failing = Set(try FilterDecisionRow
                .filter(Column("keyword_id") >= keywords.lowerBound && Column("keyword_id") <= keywords.upperBound)
                .filter(Column("pass") != 1 && !FilterPipeline.wholeSetRules.contains(Column("rule"))).fetchAll(db).map(\.pair))
            var stored: [String: String] = [:]
            let shas = Array(Set(subjects.map(\.sha256)))
            for start in stride(from: 0, to: shas.count, by: 500) {
                let chunk = Array(shas[start..<min(start + 500, shas.count)])
                let marks = chunk.map { _ in "?" }.joined(separator: ",")
                for row in try Row.fetchAll(db, sql: "SELECT sha256, \(column) AS phash FROM images WHERE \(column) IS NOT NULL AND sha256 IN (\(marks))",
                                            arguments: StatementArguments(chunk)) {
                    stored[row["sha256"]] = row["phash"]
                }
            }
            return (subjects, failing, stored)
        }
        var hashes = stored
        // Images whose pHash could not be computed (unreadable file, full disk…): not a decision — they are held
        // undecided, so not kept unchecked, and pending again on the next run.
        var unhashed: [String: String] = [:]
        let needed = Array(Set(subjects.filter { hashes[$0.sha256] == nil && !failing.contains($0.pair) }.map(\.sha256))).sorted()
        if !needed.isEmpty {
            let computed = await hash(needed, subjects: subjects, analyzer: analyzer)
            try manifest.write { db in
                for (sha, outcome) in computed {
                    switch outcome {
                    case .success(let hash):
                        hashes[sha] = hash
                        result.hashed += 1
                        try db.execute(sql: "UPDATE images SET \(column) = ? WHERE sha256 = ?", arguments: [hash, sha])
                    case .failure(let error):
                        let path = subjects.first { $0.sha256 == sha }.map { $0.fileURL.lastPathComponent } ?? String(sha.prefix(12))
                        let message = "duplicates: cannot compute the pHash of image \(path) (\(error)); it is not grouped and stays pending: run filter again"
                        unhashed[sha] = message
                        result.errors.append(message)
                    }
                }
            }
        }
        if Task.isCancelled { result.cutShort = true; return }
        let grouping = DuplicateGrouping(maxDistance: settings.phashDistance)
        let settingsHash = ContentHash.sha256Hex("duplicates|\(settings.phashDistance)|\(settings.phashMode.rawValue)")
        let now = Date().timeIntervalSince1970
        for (keywordID, members) in Dictionary(grouping: subjects, by: \.keywordID).sorted(by: { $0.key < $1.key }) {
            if Task.isCancelled { result.cutShort = true; return }
            let verdicts = grouping.group(members.filter { !failing.contains($0.pair) }.compactMap { s in
                hashes[s.sha256].flatMap { UInt64($0, radix: 16) }.map {
                    DuplicateGrouping.Member(sha256: s.sha256, phash: $0, pixels: s.probe.width * s.probe.height, searchRank: s.searchRank)
                }
            })
            try manifest.write { db in
                try db.execute(sql: "DELETE FROM filter_decisions WHERE keyword_id = ? AND rule = ?", arguments: [keywordID, Self.rule])
                for (sha, verdict) in verdicts {
                    let decision = self.decision(sha: sha, verdict: verdict)
                    if decision.pass { result.kept += 1 } else { result.dropped += 1 }
                    try FilterDecisionRow(pair: KeywordImage(keywordID: keywordID, sha256: sha), rule: Self.rule, settingsHash: settingsHash,
                                          pass: decision.pass ? 1 : 0, value: decision.value, threshold: decision.threshold,
                                          reason: decision.reason, decidedAt: now).insert(db)
                }
                for member in members where !failing.contains(member.pair) {
                    guard let message = unhashed[member.sha256] else { continue }
                    try FilterDecisionRow(pair: member.pair, rule: Self.rule, settingsHash: FilterRuleStage.undecidedHash,
                                          pass: FilterRuleStage.undecidedPass, value: "undecided", threshold: "", reason: message,
                                          decidedAt: now).insert(db)
                }
            }
            result.keywords += 1
            context.progress.advance()
        }
    }

    /// The recorded decision for one image's verdict.
    func decision(sha: String, verdict: DuplicateGrouping.Verdict) -> RuleDecision {
        let threshold = "<= \(settings.phashDistance)"
        switch verdict {
        case .kept:
            return .keep("unique", threshold, "no duplicate within distance \(settings.phashDistance)")
        case .duplicate(let of, let distance):
            return .drop("\(distance)", threshold, distance == 0 && of == sha ? "exact duplicate"
                         : "near duplicate of \(of.prefix(12)) (distance \(distance) <= \(settings.phashDistance))")
        }
    }

    /// Computes the pHashes of `shas`, `concurrency` at a time.
    private func hash(_ shas: [String], subjects: [FilterSubject], analyzer: any PixelAnalyzing) async -> [(String, Swift.Result<String, any Error>)] {
        let files = Dictionary(subjects.map { ($0.sha256, $0.fileURL) }, uniquingKeysWith: { a, _ in a })
        let mode = settings.phashMode.hashMode
        return await withTaskGroup(of: (String, Swift.Result<String, any Error>).self) { group in
            var results: [(String, Swift.Result<String, any Error>)] = []
            var iterator = shas.makeIterator()
            func add() {
                guard !Task.isCancelled, let sha = iterator.next(), let url = files[sha] else { return }
                group.addTask { (sha, Swift.Result { try analyzer.perceptualHash(fileAt: url, mode: mode) }) }
            }
            for _ in 0..<max(1, settings.concurrency) { add() }
            while let result = await group.next() {
                results.append(result)
                add()
            }
            return results
        }
    }
}
