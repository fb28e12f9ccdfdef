import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport
@testable import Train

/// The embedding side of "held out": a kept image whose stored embedding meets a test image's at the semantic
/// threshold is a near copy of it — `shards` leaves it out of every training artifact and `check split_disjoint`
/// reports it where it was written — beside the pHash side, in the same `HeldOutImages`.
@Suite struct SemanticHeldOutTests {
    struct World {
        let fixture: FixtureWorkspace
        let model: URL
        let match: SemanticMatch
        /// A test image (of a held-out keyword: one image each here), a training image planted as its near copy by
        /// embedding, and the other training images.
        var test = "", copy = "", others: [String] = []

        init() throws {
            fixture = try FixtureWorkspace(images: 6, testEvery: 0)
            model = fixture.dir.path("clip")
            try FileManager.default.createDirectory(at: model, withIntermediateDirectories: true)
            try Data(#"{"model_type": "clip"}"#.utf8).write(to: model.appendingPathComponent("config.json"))
            match = SemanticMatch(model: model, threshold: 0.98)
            let workspace = fixture.workspace
            let tests = try workspace.manifest.write { db -> Set<String> in
                try ExperimentSplit.assign(SplitSettings(design: .keyword, testFraction: 0.34), in: db)
                return try SplitMap.load(in: db).testImages
            }
            test = try #require(tests.sorted().first)
            let training = fixture.summary.keptImages.filter { !tests.contains($0) }
            copy = try #require(training.first)
            others = Array(training.dropFirst())
            let store = try EmbeddingStore.open(workspace: workspace, id: try EmbeddingModelID.of(model), path: model.path,
                                                family: "clip", dim: 8).store
            // The test image and its copy nearly along one axis; every other image along an axis of its own.
            var vectors: [(String, [Float])] = [(test, Self.axis(0, tilt: 0)), (copy, Self.axis(0, tilt: 0.1))]
            for (i, sha) in others.enumerated() { vectors.append((sha, Self.axis(1 + i, tilt: 0))) }
            try store.append(vectors.map { .image(sha256: $0.0) }, vectors: HalfFloats.encode(vectors.map(\.1)))
        }

        static func axis(_ i: Int, tilt: Float) -> [Float] {
            var v = [Float](repeating: 0, count: 8)
            v[i] = 1
            v[7] = tilt
            return v
        }
    }

    @Test func aTrainingImageNearATestImageByEmbeddingIsHeldOut() throws {
        let w = try World()
        let held = try w.fixture.workspace.manifest.read { db -> HeldOutImages in
            let vectors = try #require(try EmbeddingVectors.load(w.model, workspaceRoot: w.fixture.workspace.root, in: db))
            let tests = try SplitMap.load(in: db).testImages
            return try HeldOutImages.find(in: db, testImages: tests, distance: 8,
                                          semantic: HeldOutImages.Semantic(vectors: vectors, threshold: w.match.threshold))
        }
        #expect(held.nearDuplicatesOfTest == [w.copy])
        #expect(held.semanticOnly == 1)
        // Above the pair's cosine (0.995), nothing is near.
        let strict = try w.fixture.workspace.manifest.read { db -> HeldOutImages in
            let vectors = try #require(try EmbeddingVectors.load(w.model, workspaceRoot: w.fixture.workspace.root, in: db))
            return try HeldOutImages.find(in: db, testImages: try SplitMap.load(in: db).testImages, distance: 8,
                                          semantic: HeldOutImages.Semantic(vectors: vectors, threshold: 0.999))
        }
        #expect(strict.nearDuplicatesOfTest.isEmpty)
    }

    /// Shards written without the embeddings carry the copy, and check names it with the test image it copies;
    /// written with them, the copy is left out and the check passes.
    @Test func checkReportsTheCopyInShardsAndShardsLeaveItOut() async throws {
        let w = try World()
        let (before, plain) = try await w.fixture.writeShards("before")
        #expect(plain.excludedSemanticDuplicatesOfTest == nil)
        let auditor = WorkspaceAuditor(workspace: w.fixture.workspace, shards: before, phashDistance: 8, semantic: w.match)
        let report = try auditor.run(only: ["split_disjoint"])
        let lines = report.lines.filter { $0.contains(w.copy) }
        #expect(!lines.isEmpty, "\(report.lines)")
        #expect(lines.allSatisfy { $0.contains("at embedding cosine 0.99") && $0.contains("test image \(w.test)") })
        // Without the semantic match the same shards pass: only the embeddings see the copy.
        #expect(try WorkspaceAuditor(workspace: w.fixture.workspace, shards: before, phashDistance: 8).run(only: ["split_disjoint"]).ok)

        let (after, summary) = try await w.fixture.writeShards("after") { $0.semantic = w.match }
        #expect(summary.excludedSemanticDuplicatesOfTest == 1)
        let paired = try ShardContents.load(root: after, display: { $0.path }, knownImages: []).paired
        #expect(!paired.isEmpty && !paired.contains { $0.imageSHA256s.contains(w.copy) })
        #expect(paired.contains { $0.imageSHA256s.contains(w.others[0]) })
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: after.appendingPathComponent("shards.json"))) as? [String: Any]
        let excluded = index?["excluded"] as? [String: Any]
        #expect(excluded?["semantic_duplicates_of_test"] as? Int == 1 && excluded?["semantic_threshold"] as? Double == 0.98)
        let clean = try WorkspaceAuditor(workspace: w.fixture.workspace, shards: after, phashDistance: 8, semantic: w.match).run(only: ["split_disjoint"])
        #expect(clean.ok, "\(clean.lines)")
    }

    @Test func aModelWithNoStoredVectorsIsANoteNotAFailure() throws {
        let w = try World()
        let other = w.fixture.dir.path("siglip")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try Data(#"{"model_type": "siglip"}"#.utf8).write(to: other.appendingPathComponent("config.json"))
        let report = try WorkspaceAuditor(workspace: w.fixture.workspace, shards: w.fixture.dir.path("none"), phashDistance: 8,
                                          semantic: SemanticMatch(model: other, threshold: 0.9)).run(only: ["split_disjoint"])
        #expect(report.notes.contains { $0.contains("no embeddings of siglip are stored") && $0.contains("dsbuild embed") })
    }

    /// Kept images with no stored vector (collected after the last `embed`) are named in a note: the embedding side
    /// of split_disjoint did not see them.
    @Test func keptImagesWithoutAnEmbeddingAreANote() throws {
        let w = try World()
        let partial = w.fixture.dir.path("clip-partial")
        try FileManager.default.createDirectory(at: partial, withIntermediateDirectories: true)
        try Data(#"{"model_type": "clip", "partial": true}"#.utf8).write(to: partial.appendingPathComponent("config.json"))
        let store = try EmbeddingStore.open(workspace: w.fixture.workspace, id: try EmbeddingModelID.of(partial), path: partial.path,
                                            family: "clip", dim: 8).store
        try store.append([.image(sha256: w.test), .image(sha256: w.copy)], vectors: HalfFloats.encode([World.axis(0, tilt: 0), World.axis(0, tilt: 0.1)]))
        let report = try WorkspaceAuditor(workspace: w.fixture.workspace, shards: w.fixture.dir.path("none"), phashDistance: 8,
                                          semantic: SemanticMatch(model: partial, threshold: 0.98)).run(only: ["split_disjoint"])
        let kept = try w.fixture.workspace.manifest.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT image_sha256) FROM kept_pairs") ?? 0 }
        #expect(report.notes.contains { $0.hasPrefix("\(kept - 2) kept images have no embedding of clip-partial") && $0.contains("dsbuild embed") },
                "\(report.notes)")
        let full = try WorkspaceAuditor(workspace: w.fixture.workspace, shards: w.fixture.dir.path("none"), phashDistance: 8,
                                        semantic: w.match).run(only: ["split_disjoint"])
        // World embeds one test image of several: the others are counted too.
        let unembedded = kept - 2 - w.others.count
        #expect(unembedded > 0 && full.notes.contains { $0.hasPrefix("\(unembedded) kept image") && $0.contains("no embedding of clip:") }, "\(full.notes)")
    }
}
