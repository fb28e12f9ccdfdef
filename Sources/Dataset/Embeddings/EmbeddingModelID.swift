import Foundation
import GRDB

/// The identity of an embedding model folder: a digest of its files — every file's relative path and size, and the
/// contents of its small configuration files (`config.json`, the tokenizer and processor configs) — so the same
/// checkpoint copied elsewhere keeps its vectors, and a different or retrained one (other weights, another size,
/// another config) gets a file of its own. Hashing sizes rather than weight bytes keeps it instant for a 1 GB model.
public enum EmbeddingModelID {
    /// Files at most this large and ending in one of `contentExtensions` are hashed by content too.
    static let contentLimit = 1 << 20
    static let contentExtensions: Set<String> = ["json", "txt", "model", "jinja"]

    /// The id of the model in `folder`: 16 hex digits. Throws `EmbeddingError.modelMissing` when it is no folder.
    public static func of(_ folder: URL) throws(EmbeddingError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw EmbeddingError(.modelMissing, item: folder.path,
                                 "no such folder; set filter.embeddings.model (or --model) to a local CLIP or SigLIP folder")
        }
        let root = folder.resolvingSymlinksInPath().standardizedFileURL
        var lines: [String] = []
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey],
                                                        options: [.skipsHiddenFiles])
        while let url = enumerator?.nextObject() as? URL {
            let values = try? url.resolvingSymlinksInPath().resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey])
            guard values?.isRegularFile == true else { continue }
            let size = values?.fileSize ?? 0
            // The name inside the folder (a Hugging Face cache snapshot links its files to blobs elsewhere).
            let relative = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
            var line = "\(relative)\t\(size)"
            if size <= contentLimit, contentExtensions.contains(url.pathExtension.lowercased()),
               let data = try? Data(contentsOf: url) {
                line += "\t" + ContentHash.sha256Hex(data)
            }
            lines.append(line)
        }
        guard !lines.isEmpty else {
            throw EmbeddingError(.modelMissing, item: folder.path, "the folder is empty; point filter.embeddings.model at a CLIP or SigLIP folder")
        }
        return String(ContentHash.sha256Hex(lines.sorted().joined(separator: "\n")).prefix(16))
    }

    /// The id of the model `folder` names: its digest when the folder is there, else the model last embedded from
    /// that path (a folder moved or deleted after `embed` still finds its vectors); nil when neither is known.
    public static func resolve(_ folder: URL, in db: Database) throws -> String? {
        if let id = try? of(folder) { return id }
        return try String.fetchOne(db, sql: "SELECT id FROM embedding_models WHERE path = ? ORDER BY created_at DESC LIMIT 1",
                                   arguments: [folder.standardizedFileURL.path])
    }
}
