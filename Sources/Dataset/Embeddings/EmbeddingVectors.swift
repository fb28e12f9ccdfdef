import Foundation
import GRDB
import Imaging

/// One model's stored vectors, read-only: the keyword vectors (few, held), and image vectors looked up by image
/// hash in the index and read from the memory-mapped vectors file (not held: a million images need not fit).
/// Only recorded rows are read; a vector comes back normalised to length 1.
///
/// What the embedding rules (`clip_rank`, `semantic_duplicates`), `shards` and `check` read.
public struct EmbeddingVectors: Sendable {
    /// A keyword's vector and the text it is the vector of.
    public struct KeywordVector: Sendable {
        public let text: String
        public let vector: [Float]
    }

    public let model: EmbeddingModelRecord
    /// Keyword id → its vector, for every keyword embedded under this model.
    public let keywords: [Int64: KeywordVector]
    private let data: Data

    /// The vectors of model `id`, or nil when nothing was embedded with it. Throws when its file cannot be read.
    public static func load(model id: String, workspaceRoot: URL, in db: Database) throws -> EmbeddingVectors? {
        guard let model = try EmbeddingModelRecord.load(id, in: db), model.rows > 0 else { return nil }
        let url = workspaceRoot.appendingPathComponent(model.file)
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .alwaysMapped)
        } catch {
            throw EmbeddingError(.storeCorrupt, item: url.path, "cannot read the vectors file (\(error.localizedDescription)); run `dsbuild embed` again")
        }
        var vectors = EmbeddingVectors(model: model, keywords: [:], data: data)
        var keywords: [Int64: KeywordVector] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT keyword_id, text, row FROM keyword_embeddings WHERE model_id = ?", arguments: [id]) {
            if let vector = vectors.vector(row: row["row"]) { keywords[row["keyword_id"]] = KeywordVector(text: row["text"], vector: vector) }
        }
        vectors = EmbeddingVectors(model: model, keywords: keywords, data: data)
        return vectors
    }

    /// The vectors `match.model` names (by its folder's id, else the model last embedded from that path), or nil.
    public static func load(_ folder: URL, workspaceRoot: URL, in db: Database) throws -> EmbeddingVectors? {
        guard let id = try EmbeddingModelID.resolve(folder, in: db) else { return nil }
        return try load(model: id, workspaceRoot: workspaceRoot, in: db)
    }

    /// The normalised vector in `row`, or nil when the row is not recorded (or not in the file).
    public func vector(row: Int) -> [Float]? {
        guard row >= 0, row < model.rows else { return nil }
        let raw = data.withUnsafeBytes { Float16Rows.row(row, dimension: model.dim, in: $0) }
        return raw.flatMap(CosineIndex<Int>.normalized)
    }

    /// The image's vector, or nil when it has none.
    public func image(_ sha256: String, in db: Database) throws -> [Float]? {
        let row = try Int.fetchOne(db.cachedStatement(sql: "SELECT row FROM image_embeddings WHERE model_id = ? AND image_sha256 = ?"),
                                   arguments: [model.id, sha256])
        return row.flatMap(vector(row:))
    }

    /// How many kept images (`kept_pairs`) have no vector of this model: what a comparison by embedding cannot see.
    public func keptImagesWithoutVectors(in db: Database) throws -> Int {
        try Int.fetchOne(db, sql: """
            SELECT COUNT(DISTINCT k.image_sha256) FROM kept_pairs k
             WHERE NOT EXISTS (SELECT 1 FROM image_embeddings e WHERE e.model_id = ? AND e.image_sha256 = k.image_sha256 AND e.row < ?)
            """, arguments: [model.id, model.rows]) ?? 0
    }

    /// The vectors of the images in `shas` that have one.
    public func images<S: Sequence>(_ shas: S, in db: Database) throws -> [String: [Float]] where S.Element == String {
        let all = Array(Set(shas))
        var out: [String: [Float]] = [:]
        for start in stride(from: 0, to: all.count, by: 500) {
            let chunk = Array(all[start..<min(start + 500, all.count)])
            let rows = try Row.fetchCursor(db, sql: """
                SELECT image_sha256, row FROM image_embeddings WHERE model_id = ? AND image_sha256 IN (\(KeptPairs.placeholders(chunk.count)))
                """, arguments: StatementArguments([model.id] + chunk))
            while let row = try rows.next() {
                if let vector = vector(row: row["row"]) { out[row["image_sha256"]] = vector }
            }
        }
        return out
    }
}

/// Reads image vectors for callers that hold no database (a filter rule deciding one image): each lookup is one
/// read of the manifest.
public struct EmbeddingLookup: Sendable {
    public let vectors: EmbeddingVectors
    public let manifest: Manifest

    public init(vectors: EmbeddingVectors, manifest: Manifest) {
        self.vectors = vectors
        self.manifest = manifest
    }

    /// The image's vector, or nil when it has none (or the manifest cannot be read).
    public func image(_ sha256: String) -> [Float]? {
        try? manifest.read { db in try vectors.image(sha256, in: db) }
    }

    /// Opens the vectors of the model `folder` names in `workspace`; nil when nothing was embedded with it.
    public static func open(_ folder: URL, workspace: Workspace) throws -> EmbeddingLookup? {
        try workspace.manifest.read { db in try EmbeddingVectors.load(folder, workspaceRoot: workspace.root, in: db) }
            .map { EmbeddingLookup(vectors: $0, manifest: workspace.manifest) }
    }
}
