import Dataset
import Filter
import Foundation
import GRDB
import Logging
import Testing
import _DSBuildTestSupport

/// The filter end to end on real K-Viscuit images: real probes, real decodes, real pHashes.
@Suite struct FilterRealImagesTests {
    @Test func realImagesAreProbedDecodedAndHashedAndATruncatedCopyIsDropped() async throws {
        let tmp = TemporaryDirectory()
        var fixture = try StoredImageFixture(tmp)
        let prober = CodecImageProber()
        let items = Array(try KViscuitFixture.type1Items().prefix(40))
        var probes: [String: ProbedImage] = [:]
        for item in items {
            let file = TestPaths.kViscuitImages.appendingPathComponent(item.imagePath)
            guard FileManager.default.fileExists(atPath: file.path) else { continue }
            let sha = try ContentHash.sha256Hex(fileAt: file)
            let probe = try prober.probe(fileAt: file)
            probes[sha] = probe
            try fixture.add(keyword: item.keyword, sha: sha, width: probe.width, height: probe.height,
                            orientation: probe.orientation, format: probe.format, copying: file)
        }
        // A truncated copy of the first JPEG, stored under its own hash.
        let jpeg = try #require(items.first { $0.imagePath.hasSuffix(".jpg") && FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path) })
        let full = try Data(contentsOf: TestPaths.kViscuitImages.appendingPathComponent(jpeg.imagePath))
        let cut = tmp.path("cut.jpg")
        try full.prefix(full.count / 2).write(to: cut)
        let cutSHA = ContentHash.sha256Hex(full.prefix(full.count / 2))
        let cutProbe = try prober.probe(fileAt: cut)
        try fixture.add(keyword: "truncated", sha: cutSHA, width: cutProbe.width, height: cutProbe.height,
                        format: cutProbe.format, copying: cut)

        var settings = FilterSettings()
        settings.concurrency = 2
        let pipeline = FilterPipeline(workspace: fixture.workspace, settings: settings, analyzer: CodecPixelAnalyzer(),
                                      judge: nil, logger: Logger(label: "test"))
        let summary = try await pipeline.run(progress: ProgressReporter(style: .quiet))
        #expect(summary.errors.isEmpty, "\(summary.errors)")
        let decisions = try fixture.decisions()
        #expect(decisions[cutSHA]?["integrity"]?.pass == false)
        #expect(decisions[cutSHA]?["integrity"]?.reason.contains("does not decode") == true)
        for (sha, probe) in probes {
            let d = try #require(decisions[sha])
            #expect(d["integrity"]?.pass == true, "\(sha): \(d["integrity"]?.reason ?? "")")
            #expect(d["min_short_side"]?.pass == (min(probe.displayWidth, probe.displayHeight) >= 512))
            // Duplicate grouping considers the images every other rule keeps.
            let othersPass = d.filter { $0.key != "duplicates" }.allSatisfy(\.value.pass)
            #expect((d["duplicates"] != nil) == othersPass)
        }
        let hashed = try fixture.workspace.manifest.read { db in
            try String.fetchAll(db, sql: "SELECT phash FROM images WHERE phash IS NOT NULL")
        }
        #expect(hashed.allSatisfy { $0.count == 16 })
        #expect(hashed.count >= probes.values.filter { min($0.displayWidth, $0.displayHeight) >= 512 }.count / 2)
    }
}
