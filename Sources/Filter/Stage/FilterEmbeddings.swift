import Dataset
import Foundation
import GRDB

/// What the embedding rules (`clip_rank`, `semantic_duplicates`) read: the configured model's stored vectors and
/// every keyword with its category and its current text vector — nil for a keyword never embedded, or embedded
/// from another text than the recipe's prompt now gives (both need `dsbuild embed`).
public struct FilterEmbeddings: Sendable {
    public struct Keyword: Sendable {
        public let text: String
        public let category: String?
        public let vector: [Float]?
    }

    /// The model folder the recipe names (`filter.embeddings.model`).
    public let folder: URL
    /// The stored vectors; nil when nothing was embedded with the model yet.
    public let lookup: EmbeddingLookup?
    public let keywords: [Int64: Keyword]

    /// The model id, for settings hashes ("none" before anything was embedded).
    public var modelID: String { lookup?.vectors.model.id ?? "none" }

    public init(folder: URL, lookup: EmbeddingLookup?, keywords: [Int64: Keyword]) {
        self.folder = folder
        self.lookup = lookup
        self.keywords = keywords
    }

    /// Loads the vectors of `settings.model` in `workspace` (throws `modelMissing` when no model is set).
    public static func load(_ settings: EmbeddingSettings, workspace: Workspace) throws -> FilterEmbeddings {
        guard let folder = settings.model else {
            throw EmbeddingError(.modelMissing, item: "filter.embeddings.model",
                                 "clip_rank and semantic_duplicates need it: set it to a local CLIP or SigLIP folder, then run `dsbuild embed`")
        }
        let lookup = try EmbeddingLookup.open(folder, workspace: workspace)
        let keywords = try workspace.manifest.read { db -> [Int64: Keyword] in
            var out: [Int64: Keyword] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, text, category FROM keywords") {
                let id: Int64 = row["id"], text: String = row["text"]
                let category: String? = (row["category"] as String?).flatMap { $0.isEmpty ? nil : $0 }
                let stored = lookup?.vectors.keywords[id]
                let current = stored?.text == settings.text(keyword: text, category: category) ? stored?.vector : nil
                out[id] = Keyword(text: text, category: category, vector: current)
            }
            return out
        }
        return FilterEmbeddings(folder: folder, lookup: lookup, keywords: keywords)
    }

    /// The keywords an image of `keywordID` is ranked among: those of its category, or all when it has none.
    public func competitors(of keywordID: Int64) -> [(id: Int64, keyword: Keyword)] {
        let category = keywords[keywordID]?.category
        return keywords.filter { category == nil || $0.value.category == category }.map { ($0.key, $0.value) }
            .sorted { $0.id < $1.id }
    }

    /// A digest of the keywords and their text vectors' presence: rankings made among other keywords are stale.
    public var keywordDigest: String {
        let lines = keywords.sorted { $0.key < $1.key }.map { "\($0.key)|\($0.value.category ?? "")|\($0.value.vector != nil)" }
        return String(ContentHash.sha256Hex(lines.joined(separator: "\n")).prefix(16))
    }
}
