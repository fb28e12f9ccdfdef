import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

/// The embedding store: vectors appended to one file per model and indexed in the manifest (migration
/// v9-embeddings), read back by image and keyword; a killed run's unrecorded tail is cut off, a file that lost
/// recorded rows is repaired so they are computed again, and a model's id follows its files, not its path.
@Suite struct EmbeddingStoreTests {
    struct Fixture {
        let tmp = TemporaryDirectory("embedding-store")
        var images: StoredImageFixture
        var workspace: Workspace { images.workspace }
        let shas = (1...4).map { String(repeating: String($0), count: 64) }

        init() throws {
            images = try StoredImageFixture(tmp)
            for sha in shas { try images.add(keyword: "Hanbok", sha: sha, width: 100, height: 100) }
        }

        var keywordID: Int64 { (try? workspace.manifest.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM keywords") }) ?? 0 }

        func vectors(_ id: String = "m1") throws -> EmbeddingVectors? {
            try workspace.manifest.read { db in try EmbeddingVectors.load(model: id, workspaceRoot: workspace.root, in: db) }
        }

        func image(_ sha: String, _ vectors: EmbeddingVectors) throws -> [Float]? {
            try workspace.manifest.read { db in try vectors.image(sha, in: db) }
        }
    }

    static func unit(_ values: [Float]) -> [Float] {
        let n = values.map { $0 * $0 }.reduce(0, +).squareRoot()
        return values.map { $0 / n }
    }

    static func close(_ a: [Float]?, _ b: [Float]) -> Bool {
        guard let a, a.count == b.count else { return false }
        return zip(a, unit(b)).allSatisfy { abs($0 - $1) < 2e-3 }
    }

    @Test func theMigrationCreatesTheIndexTables() throws {
        let f = try Fixture()
        #expect(try f.workspace.manifest.appliedMigrations().contains("v9-embeddings"))
        let tables = try f.workspace.manifest.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        #expect(Set(["embedding_models", "image_embeddings", "keyword_embeddings"]).isSubset(of: Set(tables)))
    }

    @Test func appendedVectorsReadBackByImageAndKeywordNormalised() throws {
        let f = try Fixture()
        let (store, repaired) = try EmbeddingStore.open(workspace: f.workspace, id: "m1", path: "/models/clip", family: "clip", dim: 3)
        #expect(repaired == 0)
        try store.append([.keyword(id: f.keywordID, text: "a photo of Hanbok."), .image(sha256: f.shas[0])],
                         vectors: HalfFloats.encode([[0, 2, 0], [1, 1, 0]]))
        try store.append([.image(sha256: f.shas[1])], vectors: HalfFloats.encode([[0, 0, 3]]))
        #expect(store.record.rows == 3)
        #expect(try FileManager.default.attributesOfItem(atPath: store.url.path)[.size] as? Int == 3 * 3 * 2)
        #expect(store.url.path.hasSuffix("embeddings/m1.f16"))

        let vectors = try #require(try f.vectors())
        #expect(vectors.model.family == "clip" && vectors.model.dim == 3 && vectors.model.rows == 3)
        #expect(vectors.keywords[f.keywordID]?.text == "a photo of Hanbok.")
        #expect(Self.close(vectors.keywords[f.keywordID]?.vector, [0, 1, 0]))
        #expect(Self.close(try f.image(f.shas[0], vectors), [1, 1, 0]))
        #expect(Self.close(try f.image(f.shas[1], vectors), [0, 0, 1]))
        #expect(try f.image(f.shas[2], vectors) == nil)
        let some = try f.workspace.manifest.read { db in try vectors.images(f.shas, in: db) }
        #expect(Set(some.keys) == [f.shas[0], f.shas[1]])
        #expect(try f.vectors("other") == nil)
    }

    @Test func aBatchOfTheWrongSizeIsRefusedAndRecordsNothing() throws {
        let f = try Fixture()
        let (store, _) = try EmbeddingStore.open(workspace: f.workspace, id: "m1", path: "/m", family: "clip", dim: 3)
        #expect(throws: EmbeddingError.self) { try store.append([.image(sha256: f.shas[0])], vectors: HalfFloats.encode([[1, 2]])) }
        #expect(store.record.rows == 0)
        #expect(try f.vectors() == nil)
    }

    /// A run killed after appending a batch but before recording it left bytes past the recorded rows: the next
    /// append starts at the last recorded row, so the file holds exactly the recorded rows and nothing shifts.
    @Test func anUnrecordedTailIsCutOffByTheNextAppend() throws {
        let f = try Fixture()
        let (store, _) = try EmbeddingStore.open(workspace: f.workspace, id: "m1", path: "/m", family: "clip", dim: 2)
        try store.append([.image(sha256: f.shas[0])], vectors: HalfFloats.encode([[1, 0]]))
        let handle = try FileHandle(forWritingTo: store.url)
        try handle.seekToEnd()
        try handle.write(contentsOf: HalfFloats.encode([[9, 9], [9, 9]]) + Data([1]))  // a torn batch
        try handle.close()

        let (reopened, repaired) = try EmbeddingStore.open(workspace: f.workspace, id: "m1", path: "/m", family: "clip", dim: 2)
        #expect(repaired == 0 && reopened.record.rows == 1)
        try reopened.append([.image(sha256: f.shas[1])], vectors: HalfFloats.encode([[0, 1]]))
        #expect(try Data(contentsOf: store.url) == HalfFloats.encode([[1, 0], [0, 1]]))
        let vectors = try #require(try f.vectors())
        #expect(Self.close(try f.image(f.shas[0], vectors), [1, 0]))
        #expect(Self.close(try f.image(f.shas[1], vectors), [0, 1]))
    }

    /// A file that lost recorded rows (a crash before they reached the disk, a cut by hand): those rows are
    /// forgotten, so the images are embedded again, and nothing reads past the end of the file.
    @Test func aFileShorterThanItsRecordedRowsIsRepaired() throws {
        let f = try Fixture()
        let (store, _) = try EmbeddingStore.open(workspace: f.workspace, id: "m1", path: "/m", family: "clip", dim: 2)
        try store.append([.image(sha256: f.shas[0]), .image(sha256: f.shas[1]), .image(sha256: f.shas[2])],
                         vectors: HalfFloats.encode([[1, 0], [0, 1], [1, 1]]))
        let handle = try FileHandle(forWritingTo: store.url)
        try handle.truncate(atOffset: 2 * 4 + 3)  // one and a bit rows gone
        try handle.close()
        let (reopened, repaired) = try EmbeddingStore.open(workspace: f.workspace, id: "m1", path: "/m", family: "clip", dim: 2)
        #expect(repaired == 1 && reopened.record.rows == 2)
        let vectors = try #require(try f.vectors())
        #expect(try f.image(f.shas[2], vectors) == nil)
        #expect(Self.close(try f.image(f.shas[1], vectors), [0, 1]))
    }

    @Test func aModelGivingVectorsOfAnotherSizeIsAStoreError() throws {
        let f = try Fixture()
        _ = try EmbeddingStore.open(workspace: f.workspace, id: "m1", path: "/m", family: "clip", dim: 2)
        let error = #expect(throws: EmbeddingError.self) {
            try EmbeddingStore.open(workspace: f.workspace, id: "m1", path: "/m", family: "clip", dim: 3)
        }
        #expect(error?.code == .storeCorrupt)
        #expect(error?.description.contains("2 floats") == true)
    }

    @Test func aModelIdFollowsTheFolderContentsNotItsPath() throws {
        let tmp = TemporaryDirectory("embedding-model-id")
        let a = tmp.path("a"), copy = tmp.path("copy")
        try FileManager.default.createDirectory(at: a, withIntermediateDirectories: true)
        try Data(#"{"model_type": "clip"}"#.utf8).write(to: a.appendingPathComponent("config.json"))
        try Data(count: 1000).write(to: a.appendingPathComponent("model.safetensors"))
        try FileManager.default.copyItem(at: a, to: copy)
        let id = try EmbeddingModelID.of(a)
        #expect(id.count == 16)
        #expect(try EmbeddingModelID.of(copy) == id)
        try Data(count: 1001).write(to: copy.appendingPathComponent("model.safetensors"))
        #expect(try EmbeddingModelID.of(copy) != id)
        try Data(#"{"model_type": "siglip"}"#.utf8).write(to: copy.appendingPathComponent("config.json"))
        try Data(count: 1000).write(to: copy.appendingPathComponent("model.safetensors"))
        #expect(try EmbeddingModelID.of(copy) != id)
        // A Hugging Face cache snapshot: the folder's files are links to blobs elsewhere; their names are what count.
        let snapshot = tmp.path("snapshot"), blobs = tmp.path("blobs")
        try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: blobs, withIntermediateDirectories: true)
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: a.appendingPathComponent(name), to: blobs.appendingPathComponent("blob-\(name)"))
            try FileManager.default.createSymbolicLink(at: snapshot.appendingPathComponent(name), withDestinationURL: blobs.appendingPathComponent("blob-\(name)"))
        }
        #expect(try EmbeddingModelID.of(snapshot) == id)
        let missing = #expect(throws: EmbeddingError.self) { try EmbeddingModelID.of(tmp.path("nope")) }
        #expect(missing?.code == .modelMissing)
    }

    /// A folder moved away after `embed` still finds its vectors by the path they were embedded from.
    @Test func aModelFolderThatIsGoneResolvesByItsRecordedPath() throws {
        let f = try Fixture()
        let folder = f.tmp.path("model")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: folder.appendingPathComponent("config.json"))
        let id = try EmbeddingModelID.of(folder)
        _ = try EmbeddingStore.open(workspace: f.workspace, id: id, path: folder.path, family: "clip", dim: 2)
        try FileManager.default.removeItem(at: folder)
        #expect(try f.workspace.manifest.read { db in try EmbeddingModelID.resolve(folder, in: db) } == id)
        #expect(try f.workspace.manifest.read { db in try EmbeddingModelID.resolve(f.tmp.path("other"), in: db) } == nil)
    }
}
