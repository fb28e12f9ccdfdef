import Dataset
@testable import Filter
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
        // The hashes the integrity decodes stored on the way are imagehash's, bit for bit.
        let reference = Dictionary(try Reference.load().images.map { ($0.file, $0.phash) }, uniquingKeysWith: { a, _ in a })
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
}

/// The integrity decode doubles as the exact pHash for JPEGs, so a filter run decodes each JPEG once.
@Suite struct VerifyAndHashTests {
    @Test func jpegVerificationYieldsTheExactHashOtherFormatsDoNot() throws {
        let tmp = TemporaryDirectory()
        let analyzer = CodecPixelAnalyzer()
        let names = try FileManager.default.contentsOfDirectory(atPath: TestPaths.kViscuitImages.path).sorted()
        for name in names.filter({ $0.hasSuffix(".jpg") }).prefix(12) {
            let url = TestPaths.kViscuitImages.appendingPathComponent(name)
            let hash = try analyzer.verifyDecodesAndHash(fileAt: url, maxPixels: 1 << 28)
            #expect(hash == (try analyzer.perceptualHash(fileAt: url, mode: .exact)), "\(name)")
        }
        let png = try #require(names.first { $0.hasSuffix(".png") })
        #expect(try analyzer.verifyDecodesAndHash(fileAt: TestPaths.kViscuitImages.appendingPathComponent(png), maxPixels: 1 << 28) == nil)

        // CMYK JPEGs take the full decoder: verified, no hash by-product.
        var samples = [UInt8]()
        for y in 0..<40 { for x in 0..<48 { samples += [UInt8(x * 5), UInt8(y * 6), UInt8((x + y) * 2), UInt8((x * y) % 200)] } }
        let cmyk = tmp.path("cmyk.jpg")
        try ImageEncoder.jpegCMYK(samples: samples, width: 48, height: 40).write(to: cmyk)
        #expect(try analyzer.verifyDecodesAndHash(fileAt: cmyk, maxPixels: 1 << 28) == nil)

        // Truncated and oversized JPEGs fail verification exactly as the full decode does.
        let jpeg = try ImageEncoder.jpeg(DecodedImage(width: 300, height: 200, channels: 3, pixels: ImageFactory.pattern(width: 300, height: 200, seed: 1)))
        let cut = tmp.path("cut.jpg")
        try jpeg.prefix(jpeg.count / 2).write(to: cut)
        #expect(throws: DecodeError.self) { try analyzer.verifyDecodesAndHash(fileAt: cut, maxPixels: 1 << 28) }
        #expect(throws: DecodeError.self) { try analyzer.verifyDecodes(fileAt: cut, maxPixels: 1 << 28) }
        let whole = tmp.path("whole.jpg")
        try jpeg.write(to: whole)
        #expect(throws: DecodeError.tooLarge(width: 300, height: 200, maxPixels: 10_000)) {
            try analyzer.verifyDecodesAndHash(fileAt: whole, maxPixels: 10_000)
        }
    }
}
