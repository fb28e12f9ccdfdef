import Dataset
@testable import Filter
import Foundation
import Logging
import Testing
import _DSBuildTestSupport

/// Rules that ask a model run last and only about pairs no other rule drops: no call is paid for an image the size
/// rule drops, such a pair is not pending for the judge, and when a threshold change lets it through, the judge is
/// asked on the next run; when a threshold change drops a judged pair, its now outdated judge decision is removed.
@Suite struct JudgeGatingTests {
    let logger = Logger(label: "test")
    let quiet = ProgressReporter(style: .quiet)

    func settings(minShortSide: Int, minConfidence: Double = 0.5) -> FilterSettings {
        var s = FilterSettings()
        s.minShortSide = minShortSide
        s.duplicates = false
        s.relevance = true
        s[RelevanceRule.self].minConfidence = minConfidence
        return s
    }

    @Test func aJudgeIsAskedOnlyAboutPairsNoOtherRuleDrops() async throws {
        let tmp = TemporaryDirectory()
        var f = try StoredImageFixture(tmp)
        try f.add(keyword: "Gat", sha: sha(1), width: 1024, height: 768)
        try f.add(keyword: "Gat", sha: sha(2), width: 640, height: 384)
        try f.add(keyword: "Hanbok", sha: sha(3), width: 900, height: 900)
        let judge = ScriptedRelevanceJudge { options in
            RelevanceVerdict(choice: options.contains("Gat") ? "Gat" : options[0], confidence: 0.9, reason: "")
        }
        func run(_ s: FilterSettings) async throws -> FilterSummary {
            try await FilterPipeline(workspace: f.workspace, settings: s, analyzer: ScriptedAnalyzer(), judge: nil,
                                     relevance: judge, logger: logger).run(progress: quiet)
        }
        // 384 px is under 512: the judge is asked about the two other images only, and nothing stays pending.
        _ = try await run(settings(minShortSide: 512))
        #expect(judge.shown.withLock { $0.count } == 2)
        var d = try f.decisions()
        #expect(d[sha(2)]?["relevance"] == nil && d[sha(2)]?["min_short_side"]?.pass == false)
        #expect(d[sha(1)]?["relevance"]?.pass == true)
        _ = try await run(settings(minShortSide: 512))
        #expect(judge.shown.withLock { $0.count } == 2, "a rerun asks nothing: the dropped pair is not pending for the judge")

        // A lower threshold lets sha(2) through: now it is judged.
        _ = try await run(settings(minShortSide: 300))
        #expect(judge.shown.withLock { $0.count } == 3)
        d = try f.decisions()
        #expect(d[sha(2)]?["relevance"]?.pass == true)

        // A higher threshold and a new judge setting at once: sha(1) (768) and sha(2) are dropped by size, so their
        // outdated relevance decisions are removed and only sha(3) (900) is asked again.
        _ = try await run(settings(minShortSide: 800, minConfidence: 0.6))
        #expect(judge.shown.withLock { $0.count } == 4)
        d = try f.decisions()
        #expect(d[sha(1)]?["relevance"] == nil && d[sha(2)]?["relevance"] == nil)
        #expect(d[sha(3)]?["relevance"] != nil)
        let status = try StatusReport.compute(f.workspace.manifest)
        #expect(status.imagesDropped["relevance"] == 1, "Hanbok's image was taken for Gat")
    }
}
