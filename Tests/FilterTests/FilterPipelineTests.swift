import Dataset
@testable import Filter
import Foundation
import GRDB
import Imaging
import Logging
import Synchronization
import Testing
import _DSBuildTestSupport

/// A scripted analyzer: pHashes and decode failures chosen by the test.
struct ScriptedAnalyzer: PixelAnalyzing {
    var hashes: [String: String] = [:]
    var corrupt: Set<String> = []
    /// Images whose pHash cannot be computed (as an unreadable file would fail).
    var unhashable: Set<String> = []

    struct Corrupt: Error, CustomStringConvertible { var description: String { "premature end of JPEG data" } }

    func verifyDecodes(fileAt url: URL, maxPixels: Int) throws {
        if corrupt.contains(url.deletingPathExtension().lastPathComponent) { throw Corrupt() }
    }

    /// Fast-mode hashes, where a test wants the two modes to disagree (defaults to the exact ones).
    var fastHashes: [String: String] = [:]

    func perceptualHash(fileAt url: URL, mode: PerceptualHash.Mode) throws -> String {
        let name = url.deletingPathExtension().lastPathComponent
        if unhashable.contains(name) { throw Corrupt() }
        if case .fast = mode, let fast = fastHashes[name] { return fast }
        return hashes[name] ?? "0000000000000000"
    }
}

func sha(_ n: Int) -> String { String(format: "%064x", n) }

@Suite struct FilterPipelineTests {
    let logger = Logger(label: "test")
    let quiet = ProgressReporter(style: .quiet)

    @Test func vlvDefaultsDropSmallAndExtremeAspectAndRecordTheMeasuredValue() async throws {
        let tmp = TemporaryDirectory()
        var f = try StoredImageFixture(tmp)
        try f.add(keyword: "Gat", sha: sha(1), width: 1024, height: 768)
        try f.add(keyword: "Gat", sha: sha(2), width: 640, height: 384)
        try f.add(keyword: "Gat", sha: sha(3), width: 3000, height: 1000)
        // Stored 600×1400 with orientation 6 is displayed 1400×600: aspect 2.33 is computed on the display size.
        try f.add(keyword: "Gat", sha: sha(4), width: 600, height: 1400, orientation: 6)
        let pipeline = FilterPipeline(workspace: f.workspace, settings: FilterSettings(), analyzer: ScriptedAnalyzer(
            hashes: [sha(1): "ffff000000000000", sha(2): "0000ffff00000000", sha(3): "00000000ffff0000", sha(4): "000000000000ffff"]),
                                      judge: nil, logger: logger)
        let summary = try await pipeline.run(progress: quiet)
        let d = try f.decisions()
        #expect(d[sha(1)]?["min_short_side"]?.pass == true)
        #expect(d[sha(2)]?["min_short_side"]?.reason == "short_side 384 < 512")
        #expect(d[sha(3)]?["aspect_ratio"]?.reason == "aspect_ratio 3.000 > 2")
        #expect(d[sha(4)]?["aspect_ratio"]?.reason == "aspect_ratio 2.333 > 2")
        #expect(d[sha(4)]?["min_short_side"]?.pass == true)
        #expect(summary.kept == 1)
        #expect(summary.droppedByRule == ["min_short_side": 1, "aspect_ratio": 2])
        let status = try StatusReport.compute(f.workspace.manifest)
        #expect(status.imagesKept == 1)
        #expect(status.imagesDropped["aspect_ratio"] == 2)
    }

    @Test func watermarkSignalsAreRecordedByNameAndValue() async throws {
        let tmp = TemporaryDirectory()
        var f = try StoredImageFixture(tmp)
        try f.add(keyword: "K", sha: sha(1), width: 800, height: 800, extra: ["pwatermark": "0.91"])
        try f.add(keyword: "K", sha: sha(2), width: 800, height: 800, extra: ["pwatermark": "0.2"])
        try f.add(keyword: "K", sha: sha(3), width: 800, height: 800, rights: ["xmp.photoshop.credit": "Getty Images/iStockphoto"])
        try f.add(keyword: "K", sha: sha(4), width: 800, height: 800, url: "https://image.shutterstock.com/z/x.jpg")
        try f.add(keyword: "K", sha: sha(5), width: 800, height: 800,
                  rights: ["xmp.plus.data_mining": "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING"])
        let hashes = (1...5).reduce(into: [String: String]()) { $0[sha($1)] = String(format: "%016llx", UInt64(1) << UInt64($1 * 12)) }
        let pipeline = FilterPipeline(workspace: f.workspace, settings: FilterSettings(),
                                      analyzer: ScriptedAnalyzer(hashes: hashes), judge: nil, logger: logger)
        _ = try await pipeline.run(progress: quiet)
        let d = try f.decisions()
        #expect(d[sha(1)]?["watermark"]?.reason == "pwatermark 0.91 >= 0.8")
        #expect(d[sha(2)]?["watermark"]?.pass == true)
        #expect(d[sha(3)]?["watermark"]?.reason.contains("Getty Images") == true)
        #expect(d[sha(4)]?["watermark"]?.reason.contains("shutterstock.com") == true)
        #expect(d[sha(5)]?["rights"]?.pass == false)
        #expect(d[sha(5)]?["rights"]?.reason.contains("DMI-PROHIBITED-AIMLTRAINING") == true)
    }

    /// A pHash that cannot be computed is a failure, never a decision: the pair is held undecided (not kept
    /// unchecked), the failure is named once, and the next run groups it.
    @Test func anImageGroupingCannotHashIsHeldUndecidedAndGroupedOnTheNextRun() async throws {
        let tmp = TemporaryDirectory()
        var f = try StoredImageFixture(tmp)
        try f.add(keyword: "K", sha: sha(1), width: 800, height: 800)
        try f.add(keyword: "K", sha: sha(2), width: 800, height: 800)
        var settings = FilterSettings()
        settings[IntegrityRule.self].enabled = false
        let hashes = [sha(1): "00000000000000ff", sha(2): "ff00000000000000"]
        let failing = FilterPipeline(workspace: f.workspace, settings: settings,
                                     analyzer: ScriptedAnalyzer(hashes: hashes, unhashable: [sha(2)]), judge: nil, logger: logger)
        let first = try await failing.run(progress: quiet)
        #expect(first.failed && first.groupingErrors.count == 1)
        #expect(first.groupingErrors.first?.contains("cannot compute the pHash of image \(sha(2))") == true, "\(first.groupingErrors)")
        #expect(first.errors.isEmpty, "named once, not again as an undecided pair: \(first.errors)")
        #expect(first.kept == 1 && first.undecided == 1)
        #expect(try f.workspace.manifest.read { db in try KeptPairs.all(in: db) }.map(\.sha256) == [sha(1)])
        let second = try await FilterPipeline(workspace: f.workspace, settings: settings, analyzer: ScriptedAnalyzer(hashes: hashes),
                                              judge: nil, logger: logger).run(progress: quiet)
        #expect(!second.failed && second.kept == 2, "\(second.errors)")
    }

    @Test func corruptImagesFailIntegrityWithTheDecoderMessage() async throws {
        let tmp = TemporaryDirectory()
        var f = try StoredImageFixture(tmp)
        try f.add(keyword: "K", sha: sha(1), width: 800, height: 800)
        try f.add(keyword: "K", sha: sha(2), width: 800, height: 800)
        let analyzer = ScriptedAnalyzer(hashes: [sha(1): "00000000000000ff", sha(2): "ff00000000000000"], corrupt: [sha(2)])
        let pipeline = FilterPipeline(workspace: f.workspace, settings: FilterSettings(), analyzer: analyzer, judge: nil, logger: logger)
        _ = try await pipeline.run(progress: quiet)
        let d = try f.decisions()
        #expect(d[sha(1)]?["integrity"]?.pass == true)
        #expect(d[sha(2)]?["integrity"]?.reason == "jpeg does not decode: premature end of JPEG data")
    }

    @Test func nearDuplicatesKeepTheLargestThenBestRankedAndCrossKeywordCopiesAreReported() async throws {
        let tmp = TemporaryDirectory()
        var f = try StoredImageFixture(tmp)
        try f.add(keyword: "A", sha: sha(1), width: 800, height: 600, rank: 1)
        try f.add(keyword: "A", sha: sha(2), width: 1600, height: 1200, rank: 2)   // largest: kept
        try f.add(keyword: "A", sha: sha(3), width: 800, height: 600, rank: 0)     // same size as 1, better ranked
        try f.add(keyword: "A", sha: sha(4), width: 800, height: 600, rank: 3)     // far away: kept
        try f.add(keyword: "B", sha: sha(2), width: 1600, height: 1200, rank: 2)   // the same image under B
        let analyzer = ScriptedAnalyzer(hashes: [
            sha(1): "ffffffff00000000", sha(2): "ffffffff0000000f", sha(3): "ffffffff000000ff", sha(4): "00000000ffffffff",
        ])
        var settings = FilterSettings()
        settings.phashDistance = 8
        let pipeline = FilterPipeline(workspace: f.workspace, settings: settings, analyzer: analyzer, judge: nil, logger: logger)
        let summary = try await pipeline.run(progress: quiet)
        let d = try f.decisions()
        #expect(d[sha(2)]?["duplicates"]?.pass == true)
        #expect(d[sha(4)]?["duplicates"]?.pass == true)
        #expect(d[sha(1)]?["duplicates"]?.reason == "near duplicate of \(sha(2).prefix(12)) (distance 4 <= 8)")
        #expect(d[sha(3)]?["duplicates"]?.pass == false)
        #expect(summary.crossKeywordDuplicates.map(\.keywords) == [["A", "B"]])
        // pHashes are cached in the manifest.
        let cached = try f.workspace.manifest.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM images WHERE phash IS NOT NULL") }
        #expect(cached == 4)
    }

    /// The fast pHash lives in its own column: switching modes recomputes instead of comparing one kind of
    /// hash with the other, and switching back reuses the cached exact hashes.
    @Test func fastPHashModeIsCachedApartFromTheExactHash() async throws {
        let tmp = TemporaryDirectory()
        var f = try StoredImageFixture(tmp)
        try f.add(keyword: "A", sha: sha(1), width: 800, height: 600, rank: 0)
        try f.add(keyword: "A", sha: sha(2), width: 1600, height: 1200, rank: 1)
        // Exact hashes 10 bits apart (distinct); fast hashes 1 bit apart (duplicates).
        let analyzer = ScriptedAnalyzer(hashes: [sha(1): "00000000000003ff", sha(2): "0000000000000000"],
                                        fastHashes: [sha(1): "0000000000000001", sha(2): "0000000000000000"])
        var settings = FilterSettings()
        settings.phashMode = .fast
        _ = try await FilterPipeline(workspace: f.workspace, settings: settings, analyzer: analyzer, judge: nil, logger: logger)
            .run(progress: quiet)
        #expect(try f.decisions()[sha(1)]?["duplicates"]?.pass == false)
        let columns = { () throws -> [String?] in
            try f.workspace.manifest.read { db in
                try Row.fetchAll(db, sql: "SELECT phash, phash_fast FROM images WHERE sha256 = ?", arguments: [sha(1)])
                    .flatMap { [$0["phash"] as String?, $0["phash_fast"] as String?] }
            }
        }
        #expect(try columns() == [nil, "0000000000000001"])

        settings.phashMode = .exact
        _ = try await FilterPipeline(workspace: f.workspace, settings: settings, analyzer: analyzer, judge: nil, logger: logger)
            .run(progress: quiet)
        #expect(try f.decisions()[sha(1)]?["duplicates"]?.pass == true)
        #expect(try columns() == ["00000000000003ff", "0000000000000001"])
        // Cached: an analyzer that would now hash differently is not asked again.
        let changed = ScriptedAnalyzer(hashes: [sha(1): "0000000000000000", sha(2): "0000000000000000"])
        _ = try await FilterPipeline(workspace: f.workspace, settings: settings, analyzer: changed, judge: nil, logger: logger)
            .run(progress: quiet)
        #expect(try f.decisions()[sha(1)]?["duplicates"]?.pass == true)
    }

    @Test func phashModeComesFromTheRecipe() throws {
        let schema = RecipeSchema(settings: [FilterSettings.self])
        let recipe = try Recipe.parse(text: "filter:\n  duplicates:\n    phash: fast\n", file: "r.yaml", schema: schema)
        #expect(FilterSettings(recipe: recipe).phashMode == .fast)
        #expect(throws: RecipeError.self) {
            try Recipe.parse(text: "filter:\n  duplicates:\n    phash: fastest\n", file: "r.yaml", schema: schema)
        }
        #expect(FilterSettings().phashMode == .exact)
        #expect(FilterSettings(recipe: recipe).recordJSON.contains("\"phash\":\"fast\""))
    }

    /// Hashes the integrity decode produced are stored and used; the analyzer is not asked to hash again.
    @Test func integrityDecodeHashesAreUsedForDuplicates() async throws {
        final class Counting: PixelAnalyzing {
            let hashCalls = Mutex(0)
            func verifyDecodes(fileAt url: URL, maxPixels: Int) throws {}
            func verifyDecodesAndHash(fileAt url: URL, maxPixels: Int) throws -> String? {
                url.deletingPathExtension().lastPathComponent == sha(2) ? "0000000000000001" : "0000000000000000"
            }
            func perceptualHash(fileAt url: URL, mode: PerceptualHash.Mode) throws -> String {
                hashCalls.withLock { $0 += 1 }
                return "ffffffffffffffff"
            }
        }
        let tmp = TemporaryDirectory()
        var f = try StoredImageFixture(tmp)
        try f.add(keyword: "A", sha: sha(1), width: 1600, height: 1200, rank: 0)
        try f.add(keyword: "A", sha: sha(2), width: 800, height: 600, rank: 1)
        let analyzer = Counting()
        _ = try await FilterPipeline(workspace: f.workspace, settings: FilterSettings(), analyzer: analyzer, judge: nil, logger: logger)
            .run(progress: quiet)
        #expect(analyzer.hashCalls.withLock { $0 } == 0)
        #expect(try f.decisions()[sha(2)]?["duplicates"]?.reason == "near duplicate of \(sha(1).prefix(12)) (distance 1 <= 8)")
        // In fast mode the integrity decode's exact hash is not what duplicates compares: the analyzer hashes.
        var fast = FilterSettings()
        fast.phashMode = .fast
        _ = try await FilterPipeline(workspace: f.workspace, settings: fast, analyzer: analyzer, judge: nil, logger: logger)
            .run(progress: quiet)
        #expect(analyzer.hashCalls.withLock { $0 } == 2)
    }

    @Test func aChangedThresholdRedecidesOnlyThatRuleAndARemovedRuleStopsCounting() async throws {
        let tmp = TemporaryDirectory()
        var f = try StoredImageFixture(tmp)
        try f.add(keyword: "K", sha: sha(1), width: 600, height: 600)
        try f.add(keyword: "K", sha: sha(2), width: 300, height: 300)
        let analyzer = ScriptedAnalyzer(hashes: [sha(1): "00000000000000ff", sha(2): "ff00000000000000"])
        var settings = FilterSettings()
        _ = try await FilterPipeline(workspace: f.workspace, settings: settings, analyzer: analyzer, judge: nil, logger: logger).run(progress: quiet)
        let before = try f.workspace.manifest.read { db in
            try Double.fetchOne(db, sql: "SELECT decided_at FROM filter_decisions WHERE rule = 'aspect_ratio' AND image_sha256 = ?", arguments: [sha(1)])
        }
        settings.minShortSide = 700
        settings[WatermarkRule.self].enabled = false
        let second = try await FilterPipeline(workspace: f.workspace, settings: settings, analyzer: analyzer, judge: nil, logger: logger).run(progress: quiet)
        #expect(second.decidedThisRun == 2)
        let d = try f.decisions()
        #expect(d[sha(1)]?["min_short_side"]?.reason == "short_side 600 < 700")
        #expect(d[sha(1)]?["watermark"] == nil)
        let after = try f.workspace.manifest.read { db in
            try Double.fetchOne(db, sql: "SELECT decided_at FROM filter_decisions WHERE rule = 'aspect_ratio' AND image_sha256 = ?", arguments: [sha(1)])
        }
        #expect(before == after)
        let third = try await FilterPipeline(workspace: f.workspace, settings: settings, analyzer: analyzer, judge: nil, logger: logger).run(progress: quiet)
        #expect(third.decidedThisRun == 0)
    }

    /// The filter holds a page of keywords at a time: pages of one candidate each decide exactly what one page
    /// of everything decides — rules, duplicate grouping, cross-keyword copies, a one-rule re-decide, a dry run.
    @Test func pagedFilteringDecidesExactlyWhatOnePageDecides() async throws {
        let hashes = (1...30).reduce(into: [String: String]()) { h, n in
            // Pairs of near duplicates inside a keyword (n and n+1 for odd n), the rest far apart.
            let base = UInt64(n % 2 == 1 ? n : n - 1) &* 0x9E37_79B9_7F4A_7C15
            h[sha(n)] = String(format: "%016llx", n % 2 == 1 ? base : base ^ 0x3)
        }
        func build(pageCandidates: Int) async throws -> (rows: [String], summary: FilterSummary, redecided: Int, dry: FilterSummary, tmp: TemporaryDirectory) {
            let tmp = TemporaryDirectory()
            var f = try StoredImageFixture(tmp)
            for n in 1...30 {
                let keyword = "K\((n - 1) / 5)"
                let side = n % 7 == 0 ? 200 : 600  // some below the minimum
                try f.add(keyword: keyword, sha: sha(n), width: side, height: side, rank: n)
            }
            try f.add(keyword: "K5", sha: sha(3), width: 600, height: 600, rank: 1)  // the same image under two keywords
            var settings = FilterSettings()
            settings.phashDistance = 4
            var pipeline = FilterPipeline(workspace: f.workspace, settings: settings, analyzer: ScriptedAnalyzer(hashes: hashes), judge: nil, logger: logger)
            pipeline.pageCandidates = pageCandidates
            let summary = try await pipeline.run(progress: quiet)
            settings.minShortSide = 300
            var again = FilterPipeline(workspace: f.workspace, settings: settings, analyzer: ScriptedAnalyzer(hashes: hashes), judge: nil, logger: logger)
            again.pageCandidates = pageCandidates
            let redecided = try await again.run(progress: quiet).decidedThisRun
            let dry = try await again.run(progress: quiet, dryRun: true)
            let rows = try f.workspace.manifest.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT k.text, d.image_sha256, d.rule, d.settings_hash, d.pass, d.value, d.threshold, d.reason
                      FROM filter_decisions d JOIN keywords k ON k.id = d.keyword_id ORDER BY k.text, d.image_sha256, d.rule
                    """).map { $0.description }
            }
            return (rows, summary, redecided, dry, tmp)
        }
        let one = try await build(pageCandidates: 1)
        let all = try await build(pageCandidates: 10_000)
        #expect(one.rows.count >= 31 * 6, "every rule decided every pair")
        #expect(one.rows == all.rows)
        #expect(one.summary.kept == all.summary.kept && one.summary.pairs == 31 && all.summary.pairs == 31)
        #expect(one.summary.droppedByRule == all.summary.droppedByRule && one.summary.droppedByRule["duplicates"] ?? 0 > 0)
        #expect(one.summary.perKeyword == all.summary.perKeyword)
        #expect(one.summary.crossKeywordDuplicates.map(\.keywords) == [["K0", "K5"]])
        #expect(all.summary.crossKeywordDuplicates.map(\.keywords) == [["K0", "K5"]])
        #expect(one.redecided == 31 && all.redecided == 31)
        #expect(one.dry.pairs == 31 && one.dry.kept == all.dry.kept && one.dry.droppedByRule == all.dry.droppedByRule)
    }

    @Test func dryRunRecordsNothing() async throws {
        let tmp = TemporaryDirectory()
        var f = try StoredImageFixture(tmp)
        try f.add(keyword: "K", sha: sha(1), width: 300, height: 300)
        let summary = try await FilterPipeline(workspace: f.workspace, settings: FilterSettings(), analyzer: ScriptedAnalyzer(),
                                               judge: nil, logger: logger).run(progress: quiet, dryRun: true)
        #expect(summary.droppedByRule["min_short_side"] == 1)
        #expect(try f.decisions().isEmpty)
    }

    @Test func animatedAndFormatRulesDecideOnTheProbe() async throws {
        let tmp = TemporaryDirectory()
        var f = try StoredImageFixture(tmp)
        try f.add(keyword: "K", sha: sha(1), width: 800, height: 800, format: "gif", animated: true)
        var settings = FilterSettings()
        settings[FormatRule.self].allowed = ["jpg", "png"]
        _ = try await FilterPipeline(workspace: f.workspace, settings: settings, analyzer: ScriptedAnalyzer(), judge: nil, logger: logger).run(progress: quiet)
        let d = try f.decisions()
        #expect(d[sha(1)]?["animated"]?.pass == false)
        #expect(d[sha(1)]?["formats"]?.reason == "format gif not in jpeg,png")
    }

    @Test func groupingIsDeterministicForEqualCandidates() {
        let g = DuplicateGrouping(maxDistance: 0)
        let verdicts = g.group([
            .init(sha256: "b", phash: 1, pixels: 10, searchRank: 0),
            .init(sha256: "a", phash: 1, pixels: 10, searchRank: 0),
        ])
        #expect(verdicts["a"] == .kept)
        #expect(verdicts["b"] == .duplicate(of: "a", distance: 0))
    }
}
