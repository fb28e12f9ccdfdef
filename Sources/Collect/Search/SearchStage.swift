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

    /// Adds the keywords the sources bring (URL list, directory) to the manifest.
    public func addDeclaredKeywords(to manifest: Manifest) throws -> Int {
        let entries = sources.flatMap { $0.declaredKeywords() }
        return entries.isEmpty ? 0 : try KeywordStore.insert(entries, into: manifest)
    }

    public func pending(in manifest: Manifest) async throws -> [Item] {
        let names = sources.map(\.name)
        let listed = Dictionary(uniqueKeysWithValues: sources.map { ($0.name, Set($0.declaredKeywords().map(\.text))) })
        return try await manifest.asyncRead { db in
            let done = try Row.fetchAll(db, sql: "SELECT keyword_id, source FROM source_searches WHERE status = 'ok'")
                .reduce(into: Set<String>()) { $0.insert("\($1["keyword_id"] as Int64)|\($1["source"] as String)") }
            var items: [Item] = []
            for keyword in try KeywordStore.all(in: db) {
                for source in names where !done.contains("\(keyword.id)|\(source)") {
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
            for candidate in candidates {
                try db.execute(sql: """
                    INSERT OR IGNORE INTO candidates(keyword_id, source, source_id, image_url, page_url, license, license_url,
                        author, title, description, declared_width, declared_height, declared_bytes, declared_mime,
                        declared_sha1, extra, rank, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [item.keywordID, candidate.source, candidate.sourceID, candidate.imageURL, candidate.pageURL,
                                     candidate.license, candidate.licenseURL, candidate.author, candidate.title,
                                     candidate.description, candidate.declaredWidth, candidate.declaredHeight,
                                     candidate.declaredBytes, candidate.declaredMime, candidate.declaredSHA1,
                                     JSONText.encode(candidate.extra), candidate.rank, now])
            }
            try db.execute(sql: "INSERT OR REPLACE INTO source_searches(keyword_id, source, status, found, detail, finished_at) VALUES (?, ?, 'ok', ?, NULL, ?)",
                           arguments: [item.keywordID, item.source, candidates.count, now])
        case .failed(let detail):
            try db.execute(sql: "INSERT OR REPLACE INTO source_searches(keyword_id, source, status, found, detail, finished_at) VALUES (?, ?, 'failed', 0, ?, ?)",
                           arguments: [item.keywordID, item.source, detail, now])
        }
    }

    public func classify(_ outcome: Outcome) -> StageOutcomeClass {
        switch outcome {
        case .found: return .ok
        case .failed(let detail): return StageOutcomeClass(key: "search_failed", failed: true, message: detail)
        }
    }
}
