import Dataset
@testable import Filter
import Foundation
import GRDB
import Imaging
import Logging
import Testing
import _DSBuildTestSupport

/// The filter end to end on real K-Viscuit images: real probes, real decodes, real pHashes.
@Suite struct FilterRealImagesTests {
    @Test func realImagesAreProbedDecodedAndHashedAndATruncatedCopyIsDropped() async throws {
        let tmp = TemporaryDirectory()
        var fixture = try StoredImageFixture(tmp)
        let items = Array(try KViscuitFixture.type1Items().prefix(40))
        var probes: [String: ProbedImage] = [:]
        for item in items {
            let file = TestPaths.kViscuitImages.appendingPathComponent(item.imagePath)
            guard FileManager.default.fileExists(atPath: file.path) else { continue }
            let sha = try ContentHash.sha256Hex(fileAt: file)
            let probe = try ProbedImage.probe(fileAt: file)
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
        let cutProbe = try ProbedImage.probe(fileAt: cut)
        try fixture.add(keyword: "truncated", sha: cutSHA, width: cutProbe.width, height: cutProbe.height,
                        format: cutProbe.format, copying: cut)

        var settings = FilterSettings()
        settings.concurrency = 2
        let pipeline = FilterPipeline(workspace: fixture.workspace, settings: settings, analyzer: PixelAnalyzer(),
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
        // The hashes the integrity decodes stored on the way are imagehash's, bit for bit.
        let reference = try Self.imagehashReference()
        let stored = try fixture.workspace.manifest.read { db in
            try Dictionary(Row.fetchAll(db, sql: "SELECT sha256, phash FROM images WHERE phash IS NOT NULL")
                .map { ($0["sha256"] as String, $0["phash"] as String) }, uniquingKeysWith: { a, _ in a })
        }
        for item in items {
            let file = TestPaths.kViscuitImages.appendingPathComponent(item.imagePath)
            guard let expected = reference[file.lastPathComponent], FileManager.default.fileExists(atPath: file.path),
                  let got = stored[try ContentHash.sha256Hex(fileAt: file)] else { continue }
            #expect(got == expected, "\(file.lastPathComponent)")
        }
        #expect(hashed.count >= probes.values.filter { min($0.displayWidth, $0.displayHeight) >= 512 }.count / 2)
    }

    /// imagehash's pHash of each K-Viscuit image by file name, from the reference the image tests check
    /// (`Tests/ImagingTests/Fixtures/phash_reference.json`, written by `make_phash_reference.py`).
    static func imagehashReference() throws -> [String: String] {
        struct Reference: Decodable {
            struct Entry: Decodable { var file: String; var phash: String }
            var images: [Entry]
        }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ImagingTests/Fixtures/phash_reference.json")
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        return Dictionary(reference.images.map { ($0.file, $0.phash) }, uniquingKeysWith: { a, _ in a })
    }
}
