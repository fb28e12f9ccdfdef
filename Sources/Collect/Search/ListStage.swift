import Dataset
import Foundation
import GRDB

/// The search stage for a source that brings its own rows (`ListingSource`, a URL list): the list is read from start
/// to end a batch at a time, and each batch is written in one transaction — its new keywords first (so keywords
/// enter the manifest in file order, as they first appear), then its candidates (after the licence filter) — before
/// the next batch is read. Nothing holds the list: what stays is one entry per distinct keyword.
///
/// A keyword's search on the source is recorded done (`source_searches`, `ok`, with the rows found, as the search
/// stage records an answer) only once the whole list has been read, so a run killed in the middle reads the list
/// again and adds what is missing; candidates are unique per keyword, source and URL, so nothing is added twice.
/// The rows of a keyword whose search was done before are passed over, as the search stage passes over the
/// (keyword, source) searches already done.
public struct ListStage: WholeSetStage {
    /// What one read of the list did.
    public struct Result: Sendable {
        /// Keywords the list brought that were not in the manifest.
        public var keywordsAdded = 0
        /// Keywords whose search on the source this run recorded done.
        public var searched = 0
        /// Good rows read (every row that became a candidate of its keyword, before the licence filter).
        public var rows = 0
        /// Rows stored as candidates this run (rows stored by an earlier, interrupted run are not counted again).
        public var added = 0
        /// Rows the licence filter refused.
        public var licenceRefused = 0
        /// Rows of keywords searched before.
        public var passedOver = 0
        /// Rows that could not be used, `file:line: message`.
        public var problems: [String] = []
    }

    public let name = "search"
    public let source: any ListingSource
    public let licenses: LicenseFilter

    public init(source: any ListingSource, licenses: LicenseFilter) {
        self.source = source
        self.licenses = licenses
    }

    public func run(in context: StageContext) async throws -> Result {
        let manifest = context.manifest
        let sourceName = source.name
        let done = try manifest.read { db in
            Set(try Int64.fetchAll(db, sql: "SELECT keyword_id FROM source_searches WHERE source = ? AND status = 'ok'",
                                   arguments: [sourceName]))
        }
        var result = Result()
        var ids: [String: Int64] = [:]
        var found: [Int64: Int] = [:]
        context.progress.start("\(name) \(sourceName)", total: 0)
        defer { context.progress.finish() }
        try source.stream(problem: { result.problems.append($0) }) { batch in
            try Task.checkCancellation()
            try manifest.write { db in
                let now = Date().timeIntervalSince1970
                for row in batch {
                    let id: Int64
                    if let known = ids[row.keyword] {
                        id = known
                    } else {
                        result.keywordsAdded += try KeywordStore.insert([KeywordEntry(text: row.keyword)], in: db)
                        guard let stored = try Int64.fetchOne(db, sql: "SELECT id FROM keywords WHERE text = ?", arguments: [row.keyword]) else {
                            throw CollectError(.unreadableInput, item: row.keyword, detail: "the keyword was not stored")
                        }
                        id = stored
                        ids[row.keyword] = id
                        if !done.contains(id) { found[id] = 0 }
                    }
                    result.rows += 1
                    if done.contains(id) {
                        result.passedOver += 1
                        continue
                    }
                    let c = row.candidate
                    if let license = c.license, !licenses.accepts(license) {
                        result.licenceRefused += 1
                        continue
                    }
                    found[id, default: 0] += 1
                    try CandidateRow(keywordID: id, source: c.source, sourceID: c.sourceID, imageURL: c.imageURL, pageURL: c.pageURL,
                                     license: c.license, licenseURL: c.licenseURL, author: c.author, title: c.title, description: c.description,
                                     declaredWidth: c.declaredWidth, declaredHeight: c.declaredHeight, declaredBytes: c.declaredBytes,
                                     declaredMime: c.declaredMime, declaredSHA1: c.declaredSHA1, extra: c.extra, rank: c.rank,
                                     createdAt: now).insertIfNew(db)
                    result.added += db.changesCount
                }
            }
            context.progress.advance(by: batch.count)
        }
        // The whole list was read: every keyword it named is searched on this source.
        try manifest.write { db in
            let now = Date().timeIntervalSince1970
            for (id, count) in found.sorted(by: { $0.key < $1.key }) {
                try SourceSearchRow(keywordID: id, source: sourceName, status: "ok", found: count, detail: nil, finishedAt: now)
                    .insert(db, onConflict: .replace)
            }
        }
        result.searched = found.count
        return result
    }

    public func counts(of result: Result) -> [String: Int] {
        ["ok": result.searched, "rows": result.rows, "candidates_added": result.added, "licence_refused": result.licenceRefused,
         "passed_over": result.passedOver, "problems": result.problems.count]
    }
}
