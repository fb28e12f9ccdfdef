import Dataset
import Foundation
import GRDB
import HTTP

/// The first half of collect: every keyword × enabled source not yet searched successfully is asked for
/// candidates; each answer is recorded (candidates + a `source_searches` row) in one transaction. A failed
/// search is recorded with its reason and tried again on the next run.
public struct SearchStage: Stage {
    public struct Item: Sendable {
        public let keywordID: Int64
        public let keyword: String
        public let query: String
        public let source: String
    }

    public enum Outcome: Sendable {
        case found([Candidate])
        case failed(String)
    }

    public let name = "search"
    public let sources: [any ImageSource]
    public let perKeyword: Int
    /// A source's own limit (`collect.sources.<name>.per_keyword`), over `perKeyword`.
    public let perSource: [String: Int]
    public let context: SourceContext

    public init(sources: [any ImageSource], perKeyword: Int, perSource: [String: Int] = [:], context: SourceContext) {
        self.perSource = perSource
        self.sources = sources
        self.perKeyword = perKeyword
        self.context = context
    }

    /// One keyword on one source: what a search is of.
    struct KeywordSource: Hashable {
        let keywordID: Int64
        let source: String
    }

    /// Adds the keywords the sources bring (a directory's folders) to the manifest. (A URL list is not searched here:
    /// `ListStage` reads it into the manifest before this stage runs.)
    public func addDeclaredKeywords(to manifest: Manifest) throws -> Int {
        let entries = sources.flatMap { $0.declaredKeywords() }
        return entries.isEmpty ? 0 : try KeywordStore.insert(entries, into: manifest)
    }

    public func pending(in manifest: Manifest) async throws -> [Item] {
        let names = sources.map(\.name)
        let listed = Dictionary(uniqueKeysWithValues: sources.map { ($0.name, Set($0.declaredKeywords().map(\.text))) })
        return try await manifest.asyncRead { db in
            let done = Set(try SourceSearchRow.filter(Column("status") == "ok").fetchAll(db).map { KeywordSource(keywordID: $0.keywordId, source: $0.source) })
            var items: [Item] = []
            for keyword in try KeywordStore.all(in: db) {
                for source in names where !done.contains(KeywordSource(keywordID: keyword.id, source: source)) {
                    // A list source only answers for the keywords it names.
                    if let own = listed[source], !own.isEmpty, !own.contains(keyword.entry.text) { continue }
                    items.append(Item(keywordID: keyword.id, keyword: keyword.entry.text, query: keyword.searchQuery, source: source))
                }
            }
            return items
        }
    }

    public func work(on item: Item) async throws -> Outcome {
        guard let source = sources.first(where: { $0.name == item.source }) else { return .failed("unknown source \(item.source)") }
        do {
            return .found(try await source.candidates(for: item.query, keyword: item.keyword, limit: perSource[item.source] ?? perKeyword, context: context))
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as HTTPWaitTooLong {
            throw error  // stops the stage: the search stays pending
        } catch {
            return .failed("\(error)")
        }
    }

    public func record(_ outcome: Outcome, for item: Item, in db: Database, run: StageRun) throws {
        let now = Date().timeIntervalSince1970
        switch outcome {
        case .found(let candidates):
            for c in candidates {
                try CandidateRow(keywordID: item.keywordID, source: c.source, sourceID: c.sourceID, imageURL: c.imageURL, pageURL: c.pageURL,
                                 license: c.license, licenseURL: c.licenseURL, author: c.author, title: c.title, description: c.description,
                                 declaredWidth: c.declaredWidth, declaredHeight: c.declaredHeight, declaredBytes: c.declaredBytes,
                                 declaredMime: c.declaredMime, declaredSHA1: c.declaredSHA1, extra: c.extra, rank: c.rank,
                                 createdAt: now).insertIfNew(db)
            }
            try SourceSearchRow(keywordID: item.keywordID, source: item.source, status: "ok", found: candidates.count, detail: nil,
                                finishedAt: now).insert(db, onConflict: .replace)
        case .failed(let detail):
            try SourceSearchRow(keywordID: item.keywordID, source: item.source, status: "failed", found: 0, detail: detail,
                                finishedAt: now).insert(db, onConflict: .replace)
        }
    }

    public func classify(_ outcome: Outcome) -> StageOutcomeClass {
        switch outcome {
        case .found: return .ok
        case .failed(let detail): return StageOutcomeClass(key: "search_failed", failed: true, message: detail)
        }
    }
}
