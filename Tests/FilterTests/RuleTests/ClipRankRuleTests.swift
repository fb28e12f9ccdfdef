import Dataset
@testable import Filter
import Foundation
import Logging
import Testing
import _DSBuildTestSupport

/// `clip_rank`: an image's keyword must be among the top k keywords of its category by the cosine of the image's
/// embedding with each keyword's text embedding; without an embedding the image is undecided, never dropped.
@Suite struct ClipRankRuleTests {
    typealias T = RuleTesting

    /// Butterflies (Monarch, Viceroy, Queen, Swallowtail) and one food (Kimchi), each keyword's text vector along
    /// its own axis; images planted at chosen angles.
    struct World {
        let tmp = TemporaryDirectory("clip-rank")
        var images: StoredImageFixture
        let embeddings: EmbeddingFixture
        static let axes: [String: Int] = ["Monarch": 0, "Viceroy": 1, "Queen": 2, "Swallowtail": 3, "Kimchi": 4]

        init(categories: Bool = true) throws {
            images = try StoredImageFixture(tmp)
            for (keyword, _) in Self.axes.sorted(by: { $0.value < $1.value }) {
                try images.add(keyword: keyword, sha: sha(100 + Self.axes[keyword]!), width: 600, height: 600,
                               category: categories ? (keyword == "Kimchi" ? "food" : "butterfly") : nil)
            }
            embeddings = try EmbeddingFixture(images.workspace, folder: tmp.path("clip"), dim: 5)
            try embeddings.keywords(Self.axes.mapValues { Self.axis($0) })
        }

        static func axis(_ i: Int, _ weight: Float = 1) -> [Float] {
            var v = [Float](repeating: 0, count: 5)
            v[i] = weight
            return v
        }

        func subject(_ keyword: String, image: String) -> FilterSubject {
            FilterSubject(sha256: image, keywordID: Int64(Self.axes[keyword]! + 1), keyword: keyword,
                          fileURL: URL(fileURLWithPath: "/x.jpg"), bytes: 1, probe: T.probe(width: 600, height: 600),
                          urls: [], extra: [:], searchRank: 0)
        }

        /// A Monarch image with `vector` stored.
        mutating func image(_ sha: String, _ vector: [Float]) throws {
            try images.add(keyword: "Monarch", sha: sha, width: 600, height: 600)
            try embeddings.image(sha, vector)
        }

        func rule(k: Int = 3) throws -> ClipRankRule { ClipRankRule(k: k, embeddings: try embeddings.embeddings()) }
    }

    /// A Monarch image that looks most like a Viceroy, then a Queen, then a Swallowtail, then a Monarch.
    static let confusing: [Float] = [0.1, 0.9, 0.6, 0.3, 0.95]

    @Test func theKeywordMustRankInTheTopKOfItsCategoryAndTheClosestCompetitorIsRecorded() async throws {
        var w = try World()
        try w.image(sha(1), Self.confusing)
        try w.image(sha(2), [0.9, 0.5, 0, 0, 0])
        let rule = try w.rule(k: 3)
        let dropped = await rule.decide(w.subject("Monarch", image: sha(1)))
        // Kimchi (0.95) is another category: it does not count.
        #expect(!dropped.pass && !dropped.undecided)
        #expect(dropped.value == "4" && dropped.threshold == "<= 3")
        #expect(dropped.reason == "clip_rank 4 > 3: closest keyword \"Viceroy\"")
        let kept = await rule.decide(w.subject("Monarch", image: sha(2)))
        #expect(kept.pass && kept.value == "1" && kept.reason == "clip_rank 1 <= 3: closest other keyword \"Viceroy\"")
        #expect(await (try w.rule(k: 4)).decide(w.subject("Monarch", image: sha(1))).pass)
        // The Viceroy keyword for the same image ranks first.
        #expect(await rule.decide(w.subject("Viceroy", image: sha(1))).value == "1")
    }

    @Test func withoutCategoriesEveryKeywordCompetes() async throws {
        var w = try World(categories: false)
        try w.image(sha(1), Self.confusing)
        let decision = await (try w.rule(k: 4)).decide(w.subject("Monarch", image: sha(1)))
        #expect(decision.value == "5" && decision.reason == "clip_rank 5 > 4: closest keyword \"Kimchi\"")
    }

    @Test func theOnlyKeywordOfItsCategoryRanksFirst() async throws {
        var w = try World()
        try w.image(sha(1), Self.confusing)
        let decision = await (try w.rule(k: 1)).decide(w.subject("Kimchi", image: sha(1)))
        #expect(decision.pass && decision.reason == "clip_rank 1 <= 1: the only keyword of its category")
    }

    @Test func anImageWithoutAnEmbeddingIsUndecidedAndTellsTheUserToRunEmbed() async throws {
        let w = try World()
        let decision = await (try w.rule()).decide(w.subject("Monarch", image: sha(7)))
        #expect(decision.undecided && !decision.stopsRun)
        #expect(decision.reason.contains("image \(sha(7).prefix(12)) (Monarch)") && decision.reason.contains("run `dsbuild embed`"))
        #expect(!decision.reason.contains("\n"))
    }

    /// A keyword embedded from another text than the prompt now gives (the prompt changed) has no current vector.
    @Test func aKeywordEmbeddedFromAnotherPromptIsUndecided() async throws {
        var w = try World()
        try w.image(sha(1), Self.confusing)
        var settings = w.embeddings.settings
        settings.prompt = "a butterfly called {keyword}"
        let rule = ClipRankRule(k: 3, embeddings: try FilterEmbeddings.load(settings, workspace: w.images.workspace))
        let decision = await rule.decide(w.subject("Monarch", image: sha(1)))
        #expect(decision.undecided && decision.reason.contains("keyword \"Monarch\", \"Viceroy\", \"Queen\" and 1 more has no text embedding"))
    }

    @Test func offByDefaultAndReadFromTheRecipe() throws {
        let w = try World()
        let embeddings = try w.embeddings.embeddings()
        #expect(FilterSettings().rules(analyzer: nil, judge: nil, embeddings: embeddings).allSatisfy { $0.name != "clip_rank" })
        let settings = try T.settings("  clip_rank:\n    enabled: true\n    k: 2\n")
        let rule = settings.rules(analyzer: nil, judge: nil, embeddings: embeddings).compactMap { $0 as? ClipRankRule }.first
        #expect(rule?.k == 2)
        // Without a configured model the rule cannot be built: the pipeline says so first (filterRefusesWithoutAModel).
        #expect(settings.rules(analyzer: nil, judge: nil, embeddings: nil).allSatisfy { $0.name != "clip_rank" })
        #expect(T.recipeError("  clip_rank:\n    k: 0\n")?.key == "filter.clip_rank.k")
    }

    @Test func aChangedKOrModelOrKeywordSetChangesTheSettingsHash() throws {
        let w = try World()
        let base = try w.rule(k: 3)
        #expect(base.settingsHash == (try w.rule(k: 3)).settingsHash)
        #expect(base.settingsHash != (try w.rule(k: 2)).settingsHash)
        let other = try EmbeddingFixture(w.images.workspace, folder: w.tmp.path("siglip"), dim: 5)
        try other.keywords(World.axes.mapValues { World.axis($0) })
        #expect(base.settingsHash != ClipRankRule(k: 3, embeddings: try other.embeddings()).settingsHash)
        var images = w.images
        try images.add(keyword: "Painted Lady", sha: sha(9), width: 600, height: 600, category: "butterfly")
        #expect(base.settingsHash != (try w.rule(k: 3)).settingsHash)
    }

    /// Through the filter: undecided pairs are recorded as failures (pass -1), neither kept nor dropped, and are
    /// decided on the next run once the image has its embedding.
    @Test func throughTheFilterAnImageWithoutAnEmbeddingIsNotDroppedAndIsDecidedAfterEmbed() async throws {
        let w = try World()
        var settings = try T.settings("  min_short_side: 32\n  clip_rank:\n    enabled: true\n    k: 1\n")
        settings.embeddings = w.embeddings.settings
        settings.duplicates = false
        let pipeline = FilterPipeline(workspace: w.images.workspace, settings: settings, analyzer: ScriptedAnalyzer(), judge: nil,
                                      logger: Logger(label: "test"))
        let first = try await pipeline.run(progress: ProgressReporter(style: .quiet))
        #expect(first.undecided == 5 && first.kept == 0 && first.droppedByRule.isEmpty && first.failed)
        #expect(first.errors.allSatisfy { $0.contains("run `dsbuild embed`") })
        for (keyword, axis) in World.axes { try w.embeddings.image(sha(100 + axis), keyword == "Queen" ? Self.confusing : World.axis(axis)) }
        let second = try await pipeline.run(progress: ProgressReporter(style: .quiet))
        #expect(second.undecided == 0 && second.kept == 4 && second.droppedByRule == ["clip_rank": 1] && !second.failed)
        #expect(try w.images.decisions()[sha(102)]?["clip_rank"]?.reason == "clip_rank 2 > 1: closest keyword \"Viceroy\"")
    }

    @Test func filterRefusesWithoutAModel() async throws {
        let w = try World()
        let settings = try T.settings("  clip_rank:\n    enabled: true\n")
        let pipeline = FilterPipeline(workspace: w.images.workspace, settings: settings, analyzer: ScriptedAnalyzer(), judge: nil,
                                      logger: Logger(label: "test"))
        let error = await #expect(throws: EmbeddingError.self) { try await pipeline.run(progress: ProgressReporter(style: .quiet)) }
        #expect(error?.code == .modelMissing && error?.description.contains("filter.embeddings.model") == true)
    }
}
