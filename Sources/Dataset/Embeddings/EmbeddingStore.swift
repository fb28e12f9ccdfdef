import Foundation
import GRDB

/// One embedding model's row in `embedding_models`: where its vectors are and how many rows of them are recorded.
public struct EmbeddingModelRecord: Sendable, Equatable {
    public let id: String
    /// The model folder as last embedded from.
    public let path: String
    /// `clip` or `siglip`.
    public let family: String
    /// Floats per vector.
    public let dim: Int
    /// The vectors file, relative to the workspace (`embeddings/<id>.f16`).
    public let file: String
    /// Rows of the file that the manifest records; the file may be longer (an unrecorded tail of a killed run).
    public let rows: Int

    /// Bytes per row (float16).
    public var rowBytes: Int { dim * 2 }

    public static func load(_ id: String, in db: Database) throws -> EmbeddingModelRecord? {
        try Row.fetchOne(db, sql: "SELECT id, path, family, dim, file, rows FROM embedding_models WHERE id = ?", arguments: [id])
            .map { EmbeddingModelRecord(id: $0["id"], path: $0["path"], family: $0["family"], dim: $0["dim"], file: $0["file"], rows: $0["rows"]) }
    }
}

/// Writes one model's vectors: `embeddings/<model>.f16` (rows of `dim` little-endian float16, appended in batches)
/// and its index (`image_embeddings`, `keyword_embeddings`: which row holds what).
///
/// Crash-safe by order: a batch is appended after the last *recorded* row (any unrecorded tail a killed run left is
/// cut off first), flushed to disk, and only then recorded — its rows and the model's new row count — in one
/// transaction. A kill at any point leaves the recorded rows intact and loses at most the batch in flight, which
/// the next run computes again. Used by one writer at a time (`dsbuild embed` holds the workspace lock).
public final class EmbeddingStore: @unchecked Sendable {
    // @unchecked: `record` changes only in `append`, which its single owner (the embed stage) calls serially.
    public let workspace: Workspace
    public private(set) var record: EmbeddingModelRecord

    public var url: URL { workspace.root.appendingPathComponent(record.file) }

    /// The folder of the vectors files.
    public static let folder = "embeddings"

    private init(workspace: Workspace, record: EmbeddingModelRecord) {
        self.workspace = workspace
        self.record = record
    }

    /// Opens (registering it when new) the store of model `id` (`path`, `family`, vectors of `dim` floats). A file
    /// shorter than its recorded rows (lost to a crash before it reached the disk, or cut by hand) loses the rows
    /// it no longer holds, so they are computed again; `repaired` says how many.
    public static func open(workspace: Workspace, id: String, path: String, family: String, dim: Int) throws -> (store: EmbeddingStore, repaired: Int) {
        let file = "\(folder)/\(id).f16"
        let url = workspace.root.appendingPathComponent(file)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        let (record, repaired) = try workspace.manifest.write { db -> (EmbeddingModelRecord, Int) in
            if let existing = try EmbeddingModelRecord.load(id, in: db) {
                guard existing.dim == dim else {
                    throw EmbeddingError(.storeCorrupt, item: url.path,
                                         "holds vectors of \(existing.dim) floats but the model gives \(dim); delete the file and run `dsbuild embed` again")
                }
                let available = size / existing.rowBytes
                var repaired = 0
                if available < existing.rows {
                    repaired = try Int.fetchOne(db, sql: """
                        SELECT (SELECT COUNT(*) FROM image_embeddings WHERE model_id = ? AND row >= ?)
                             + (SELECT COUNT(*) FROM keyword_embeddings WHERE model_id = ? AND row >= ?)
                        """, arguments: [id, available, id, available]) ?? 0
                    try db.execute(sql: "DELETE FROM image_embeddings WHERE model_id = ? AND row >= ?", arguments: [id, available])
                    try db.execute(sql: "DELETE FROM keyword_embeddings WHERE model_id = ? AND row >= ?", arguments: [id, available])
                    try db.execute(sql: "UPDATE embedding_models SET rows = ? WHERE id = ?", arguments: [available, id])
                }
                try db.execute(sql: "UPDATE embedding_models SET path = ? WHERE id = ?", arguments: [path, id])
                return (EmbeddingModelRecord(id: id, path: path, family: existing.family, dim: dim, file: existing.file,
                                             rows: min(existing.rows, available)), repaired)
            }
            try db.execute(sql: "INSERT INTO embedding_models (id, path, family, dim, file, rows, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)",
                           arguments: [id, path, family, dim, file, Date().timeIntervalSince1970])
            return (EmbeddingModelRecord(id: id, path: path, family: family, dim: dim, file: file, rows: 0), 0)
        }
        return (EmbeddingStore(workspace: workspace, record: record), repaired)
    }

    /// What a batch's vectors belong to, row for row.
    public enum Owner: Sendable, Equatable {
        case image(sha256: String)
        /// A keyword, with the exact text whose vector it is.
        case keyword(id: Int64, text: String)
    }

    /// Appends `vectors` (float16 rows, one per owner, in order) and records them in one transaction.
    public func append(_ owners: [Owner], vectors: Data) throws {
        guard !owners.isEmpty else { return }
        guard vectors.count == owners.count * record.rowBytes else {
            throw EmbeddingError(.storeCorrupt, item: url.path,
                                 "a batch of \(owners.count) vectors came as \(vectors.count) bytes, not \(owners.count * record.rowBytes)")
        }
        let start = record.rows
        try write(vectors, at: start * record.rowBytes)
        let id = record.id
        try workspace.manifest.write { db in
            for (offset, owner) in owners.enumerated() {
                switch owner {
                case .image(let sha):
                    try db.execute(sql: "INSERT OR REPLACE INTO image_embeddings (model_id, image_sha256, row) VALUES (?, ?, ?)",
                                   arguments: [id, sha, start + offset])
                case .keyword(let keywordID, let text):
                    try db.execute(sql: "INSERT OR REPLACE INTO keyword_embeddings (model_id, keyword_id, text, row) VALUES (?, ?, ?, ?)",
                                   arguments: [id, keywordID, text, start + offset])
                }
            }
            try db.execute(sql: "UPDATE embedding_models SET rows = ? WHERE id = ?", arguments: [start + owners.count, id])
        }
        record = EmbeddingModelRecord(id: record.id, path: record.path, family: record.family, dim: record.dim,
                                      file: record.file, rows: start + owners.count)
    }

    /// Writes `data` at `offset`, first cutting the file there (an unrecorded tail goes), and flushes it to disk.
    private func write(_ data: Data, at offset: Int) throws {
        let path = url.path
        if !FileManager.default.fileExists(atPath: path) {
            guard FileManager.default.createFile(atPath: path, contents: nil) else {
                throw WorkspaceError(.cannotWrite, path: path, detail: "cannot create the vectors file")
            }
        }
        do {
            let handle = try FileHandle(forUpdating: url)
            defer { try? handle.close() }
            try handle.truncate(atOffset: UInt64(offset))
            try handle.seek(toOffset: UInt64(offset))
            try handle.write(contentsOf: data)
            try handle.synchronize()
        } catch {
            if let storage = StorageError.from(error, path: path) { throw storage }
            throw error
        }
    }
}
