import Dataset
@testable import Filter
import Foundation
import GRDB
import _DSBuildTestSupport

/// Vectors planted in a workspace through the embedding store, as `dsbuild embed` would leave them, for a model
/// folder of the test's own (its id is the folder's digest): the embedding rules then read real stored vectors.
struct EmbeddingFixture {
    let workspace: Workspace
    let folder: URL
    let settings: EmbeddingSettings
    let store: EmbeddingStore

    init(_ workspace: Workspace, folder: URL, dim: Int) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(#"{"model_type": "clip", "test": "\#(folder.lastPathComponent)"}"#.utf8).write(to: folder.appendingPathComponent("config.json"))
        var settings = EmbeddingSettings()
        settings.model = folder
        self.workspace = workspace
        self.folder = folder
        self.settings = settings
        store = try EmbeddingStore.open(workspace: workspace, id: try EmbeddingModelID.of(folder), path: folder.path, family: "clip", dim: dim).store
    }

    func image(_ sha: String, _ vector: [Float]) throws {
        try store.append([.image(sha256: sha)], vectors: HalfFloats.encode([vector]))
    }

    /// Each keyword's text vector, embedded from the text the settings' prompt gives it.
    func keywords(_ vectors: [String: [Float]]) throws {
        let rows = try workspace.manifest.read { db in try Row.fetchAll(db, sql: "SELECT id, text, category FROM keywords") }
        for row in rows {
            guard let vector = vectors[row["text"]] else { continue }
            try store.append([.keyword(id: row["id"], text: settings.text(keyword: row["text"], category: row["category"]))],
                             vectors: HalfFloats.encode([vector]))
        }
    }

    func embeddings() throws -> FilterEmbeddings { try FilterEmbeddings.load(settings, workspace: workspace) }
}
