import Dataset
@testable import Filter
import Foundation
import GRDB
import Logging
import Testing
import _DSBuildTestSupport

/// `semantic_duplicates`: within a keyword, images whose stored embeddings meet at cosine ≥ the threshold are one
/// picture and the best is kept — by the pHash grouping's one rule of "best" (`DuplicateGrouping.keepBest`).
@Suite struct SemanticDuplicatesTests {
    let quiet = ProgressReporter(style: .quiet)

    struct World {
        let tmp = TemporaryDirectory("semantic-duplicates")
        var images: StoredImageFixture
        let embeddings: EmbeddingFixture

        init() throws {
            images = try StoredImageFixture(tmp)
            embeddings = try EmbeddingFixture(images.workspace, folder: tmp.path("clip"), dim: 3)
        }

        func pipeline(threshold: Double = 0.95, analyzer: ScriptedAnalyzer = ScriptedAnalyzer(), configure: (inout FilterSettings) -> Void = { _ in }) throws -> FilterPipeline {
            var settings = try RuleTesting.settings("  min_short_side: 32\n  semantic_duplicates:\n    enabled: true\n    threshold: \(threshold)\n")
            settings.embeddings = embeddings.settings
            settings.duplicates = false  // the scripted pHashes are all equal: the pHash grouping would take them first
            configure(&settings)
            return FilterPipeline(workspace: images.workspace, settings: settings, analyzer: analyzer, judge: nil, logger: Logger(label: "test"))
        }
    }

    @Test func theBestOfEachGroupIsKeptAndTheOthersDroppedWithTheCosine() async throws {
        var w = try World()
        // A photo (2000 px wide), its smaller crop, a re-encode of the same size ranked worse, and another photo.
        try w.images.add(keyword: "Gat", sha: sha(1), width: 2000, height: 1500, rank: 2)
        try w.images.add(keyword: "Gat", sha: sha(2), width: 1500, height: 1500, rank: 0)
        try w.images.add(keyword: "Gat", sha: sha(3), width: 2000, height: 1500, rank: 5)
        try w.images.add(keyword: "Gat", sha: sha(4), width: 800, height: 600)
        // The same photo under another keyword is grouped there, not here.
        try w.images.add(keyword: "Hanbok", sha: sha(2), width: 1500, height: 1500)
        try w.embeddings.image(sha(1), [1, 0.1, 0])
        try w.embeddings.image(sha(2), [1, 0.12, 0.01])
        try w.embeddings.image(sha(3), [1, 0.1, 0.005])
        try w.embeddings.image(sha(4), [0.2, 1, 0])
        let summary = try await w.pipeline(threshold: 0.99).run(progress: quiet)
        let d = try w.images.decisions()
        #expect(d[sha(1)]?["semantic_duplicates"]?.pass == true)
        #expect(d[sha(1)]?["semantic_duplicates"]?.reason == "no semantic duplicate at cosine >= 0.9900")
        let crop = try #require(try w.images.workspace.manifest.read { db in
            try Row.fetchOne(db, sql: """
                SELECT pass, reason FROM filter_decisions f JOIN keywords k ON k.id = f.keyword_id
                 WHERE k.text = 'Gat' AND f.image_sha256 = ? AND f.rule = 'semantic_duplicates'
                """, arguments: [sha(2)]).map { (pass: ($0["pass"] as Int) == 1, reason: $0["reason"] as String) }
        })
        #expect(!crop.pass && crop.reason.hasPrefix("semantic duplicate of \(sha(1).prefix(12)) (cosine 0.99") && crop.reason.hasSuffix(">= 0.9900)"))
        #expect(d[sha(3)]?["semantic_duplicates"]?.pass == false)  // same size, worse search rank
        #expect(d[sha(4)]?["semantic_duplicates"]?.pass == true)
        #expect(summary.droppedByRule["semantic_duplicates"] == 2 && summary.perKeyword["Hanbok"]?.kept == 1)
        #expect(!summary.failed)
    }

    @Test func anImageWithoutAnEmbeddingIsHeldUndecidedAndTheRestAreGrouped() async throws {
        var w = try World()
        try w.images.add(keyword: "Gat", sha: sha(1), width: 900, height: 900)
        try w.images.add(keyword: "Gat", sha: sha(2), width: 800, height: 800)
        try w.images.add(keyword: "Gat", sha: sha(3), width: 700, height: 700)
        try w.embeddings.image(sha(1), [1, 0, 0])
        try w.embeddings.image(sha(2), [1, 0, 0])
        let summary = try await w.pipeline().run(progress: quiet)
        let d = try w.images.decisions()
        #expect(d[sha(2)]?["semantic_duplicates"]?.pass == false)
        #expect(summary.undecided == 1 && summary.failed)
        let message = try #require(summary.groupingErrors.first)
        #expect(message.contains("image \(sha(3).prefix(12)) (Gat)") && message.contains("run `dsbuild embed`"))
        // Embedded, it is grouped on the next run.
        try w.embeddings.image(sha(3), [0, 1, 0])
        let again = try await w.pipeline().run(progress: quiet)
        #expect(again.undecided == 0 && again.kept == 2 && !again.failed)
    }

    /// An image another rule dropped takes no part: it can neither be kept over its duplicate nor drop one.
    @Test func imagesAnotherRuleDroppedTakeNoPart() async throws {
        var w = try World()
        try w.images.add(keyword: "Gat", sha: sha(1), width: 4000, height: 3000)  // best, but corrupt
        try w.images.add(keyword: "Gat", sha: sha(2), width: 800, height: 600)
        try w.embeddings.image(sha(1), [1, 0, 0])
        try w.embeddings.image(sha(2), [1, 0, 0])
        let summary = try await w.pipeline(analyzer: ScriptedAnalyzer(corrupt: [sha(1)])).run(progress: quiet)
        let d = try w.images.decisions()
        #expect(d[sha(1)]?["integrity"]?.pass == false && d[sha(1)]?["semantic_duplicates"] == nil)
        #expect(d[sha(2)]?["semantic_duplicates"]?.pass == true && summary.kept == 1)
    }

    /// Both groupings on: a new pair is decided by each in the same run — the undecided row that holds it for one
    /// does not take it out of the other — and each groups independently of the other's drops.
    @Test func withBothGroupingsOnANewPairIsDecidedByEachInOneRun() async throws {
        var w = try World()
        try w.images.add(keyword: "Gat", sha: sha(1), width: 900, height: 900)
        try w.images.add(keyword: "Gat", sha: sha(2), width: 800, height: 800)
        try w.images.add(keyword: "Gat", sha: sha(3), width: 700, height: 700)
        try w.embeddings.image(sha(1), [1, 0, 0])
        try w.embeddings.image(sha(2), [0, 1, 0])
        try w.embeddings.image(sha(3), [1, 0, 0])
        let analyzer = ScriptedAnalyzer(hashes: [sha(1): "ffff000000000000", sha(2): "ffff000000000000", sha(3): "0000ffff0000ffff"])
        let summary = try await w.pipeline(analyzer: analyzer) { $0.duplicates = true }.run(progress: quiet)
        let d = try w.images.decisions()
        #expect(d[sha(1)]?["duplicates"]?.pass == true && d[sha(1)]?["semantic_duplicates"]?.pass == true)
        #expect(d[sha(2)]?["duplicates"]?.pass == false && d[sha(2)]?["semantic_duplicates"]?.pass == true)
        #expect(d[sha(3)]?["duplicates"]?.pass == true && d[sha(3)]?["semantic_duplicates"]?.pass == false)
        #expect(summary.undecided == 0 && summary.kept == 1 && !summary.failed)
    }

    /// Switched off, its decisions go: `status` counts what the current recipe decides.
    @Test func switchedOffItsDecisionsAreRemoved() async throws {
        var w = try World()
        try w.images.add(keyword: "Gat", sha: sha(1), width: 900, height: 900)
        try w.images.add(keyword: "Gat", sha: sha(2), width: 800, height: 800)
        try w.embeddings.image(sha(1), [1, 0, 0])
        try w.embeddings.image(sha(2), [1, 0, 0])
        _ = try await w.pipeline().run(progress: quiet)
        let off = try await w.pipeline { $0.semanticDuplicates = false }.run(progress: quiet)
        #expect(off.kept == 2 && off.droppedByRule.isEmpty)
        #expect(try w.images.decisions().values.allSatisfy { $0["semantic_duplicates"] == nil })
    }

    @Test func theGroupingKeepsTheBestByPixelsThenRankThenHash() {
        let items = [("c", 100, 0), ("a", 100, 1), ("b", 100, 1), ("d", 400, 9)]
        let verdicts = DuplicateGrouping.keepBest(items, quality: { DuplicateGrouping.Quality(sha256: $0.0, pixels: $0.1, searchRank: $0.2) }) { _, _ in 1 }
        #expect(verdicts["d"]! == nil)
        for sha in ["a", "b", "c"] { #expect(verdicts[sha]??.of == "d") }
        let apart = DuplicateGrouping.keepBest(items, quality: { DuplicateGrouping.Quality(sha256: $0.0, pixels: $0.1, searchRank: $0.2) }) { kept, item -> Int? in
            kept.0 == "c" && item.0 == "a" ? 7 : nil
        }
        // Order: d (most pixels), c (rank 0), a (rank 1, smaller hash), b — a matches the kept c.
        #expect(apart["a"]??.of == "c" && apart["a"]??.measure == 7)
        #expect(apart["b"]! == nil && apart["c"]! == nil)
    }

    @Test func theKeysAreReadFromTheRecipeAndTheRuleNamesMatchWhatEmbedExempts() throws {
        let settings = try RuleTesting.settings("  semantic_duplicates:\n    enabled: true\n    threshold: 0.9\n  embeddings:\n    model: /models/clip\n    batch_size: 8\n    prompt: \"a {category} called {keyword}\"\n    device: cpu\n")
        #expect(settings.semanticDuplicates && settings.semanticThreshold == 0.9)
        #expect(settings.embeddings.model?.path == "/models/clip" && settings.embeddings.batchSize == 8 && settings.embeddings.device == .cpu)
        #expect(settings.embeddings.text(keyword: "Monarch", category: "butterfly") == "a butterfly called Monarch")
        #expect(settings.semanticMatch == SemanticMatch(model: URL(fileURLWithPath: "/models/clip"), threshold: 0.9))
        #expect(RuleTesting.recipeError("  semantic_duplicates:\n    threshold: 1.5\n")?.key == "filter.semantic_duplicates.threshold")
        #expect(RuleTesting.recipeError("  embeddings:\n    prompt: a photo\n")?.key == "filter.embeddings.prompt")
        #expect(RuleTesting.recipeError("  embeddings:\n    batch_size: 0\n")?.key == "filter.embeddings.batch_size")
        #expect(EmbeddingSettings.dependentRules == [ClipRankRule.ruleName, SemanticDuplicatesStage.rule])
        #expect(FilterSettings().semanticMatch == nil && !FilterSettings().semanticDuplicates)
    }
}
