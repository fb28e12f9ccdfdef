import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

@Suite struct ReportTests {
    let cli = CommandRunner()

    /// A workspace with real K-Viscuit images: some kept, some dropped with reasons.
    func makeWorkspace(_ tmp: TemporaryDirectory) throws -> (StoredImageFixture, kept: [String], dropped: [String: String]) {
        var fixture = try StoredImageFixture(tmp)
        let items = Array(try KViscuitFixture.type1Items().prefix(8))
        var kept: [String] = []
        var dropped: [String: String] = [:]
        for (index, item) in items.enumerated() {
            let file = TestPaths.kViscuitImages.appendingPathComponent(item.imagePath)
            guard FileManager.default.fileExists(atPath: file.path) else { continue }
            let sha = try ContentHash.sha256Hex(fileAt: file)
            try fixture.add(keyword: item.keyword, sha: sha, width: 800, height: 600, copying: file)
            if index % 3 == 2 {
                let reason = "short_side 384 < 512"
                try fixture.decide(keyword: item.keyword, sha: sha, rule: "min_short_side", pass: false, reason: reason)
                dropped[sha] = reason
            } else {
                try fixture.decide(keyword: item.keyword, sha: sha, rule: "min_short_side", pass: true, reason: "short_side 600 >= 512")
                kept.append(sha)
            }
        }
        return (fixture, kept, dropped)
    }

    @Test func reportHasEveryKeptThumbnailAndDroppedReasonsAndRendersInChromium() throws {
        let tmp = TemporaryDirectory()
        let (fixture, kept, dropped) = try makeWorkspace(tmp)
        #expect(kept.count >= 4)
        let out = tmp.path("report")
        let result = try cli.run(["report", "--workspace", fixture.workspace.root.path, "--out", out.path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let html = try String(contentsOf: out.appendingPathComponent("index.html"), encoding: .utf8)
        for sha in kept {
            #expect(html.contains("thumbs/\(sha).jpg"))
            let thumb = out.appendingPathComponent("thumbs/\(sha).jpg")
            let bytes = try Data(contentsOf: thumb)
            #expect(bytes.starts(with: [0xFF, 0xD8, 0xFF]))
            #expect(bytes.count < 40_000, "a thumbnail, not the full image")
        }
        for (sha, reason) in dropped {
            #expect(html.contains("data-sha256=\"\(sha)\""))
            #expect(html.contains("min_short_side: \(reason.replacingOccurrences(of: "<", with: "&lt;"))"))
        }
        #expect(html.contains("<svg"))
        #expect(!html.contains("http://") || html.contains("xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(!html.contains("https://"), "no external assets")

        let shot = ProcessInfo.processInfo.environment["DSBUILD_KEEP_SCREENSHOT"].map { URL(fileURLWithPath: $0) } ?? tmp.path("shot.png")
        let capture = try HeadlessBrowser.capture(page: out.appendingPathComponent("index.html"), screenshot: shot)
        #expect(capture.consoleErrors.isEmpty, "\(capture.consoleErrors)")
        let png = try Data(contentsOf: shot)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        #expect(png.count > 20_000, "a screenshot with content")
    }

    /// Through the commands on real photos: an image the filter dropped because it cannot be decoded has no
    /// thumbnail and that is no failure (exit 0, counted); the same image kept (integrity off) is one (exit 1).
    @Test func aDroppedUndecodableImageIsNoReportFailureAKeptOneIs() throws {
        let tmp = TemporaryDirectory("dsbuild-report-dropped")
        let photos = Array(try KViscuitFixture.type1Items().prefix(3)).map { TestPaths.kViscuitImages.appendingPathComponent($0.imagePath) }
            .filter { FileManager.default.fileExists(atPath: $0.path) }
        let source = try Hardening.directorySource(photos, keyword: "hanbok", in: tmp.path("src"))
        // A PNG cut short: its header probes, its pixels do not decode (libjpeg would still render half a JPEG).
        var random = SystemRandomNumberGenerator()
        let png = ImageFactory.png(width: 300, height: 200, channels: 3, pixels: (0..<(300 * 200 * 3)).map { _ in UInt8.random(in: 0...255, using: &random) })
        try png.prefix(png.count * 6 / 10).write(to: source.appendingPathComponent("hanbok/truncated.png"))
        for (name, integrity, status, dropped) in [("on", true, Int32(0), 1), ("off", false, Int32(1), 0)] {
            // Without the integrity rule nothing decodes the image before grouping, which would fail to hash it.
            try "filter:\n  min_short_side: 0\n  integrity: {enabled: \(integrity)}\n  duplicates: {enabled: \(integrity)}\n"
                .write(to: tmp.path("r-\(name).yaml"), atomically: true, encoding: .utf8)
            let w = tmp.path("w-\(name)")
            for arguments in [["init", w.path, "--recipe", tmp.path("r-\(name).yaml").path],
                              ["collect", "--workspace", w.path, "--sources", "directory", "--source-file", source.path],
                              ["filter", "--workspace", w.path]] {
                let r = try cli.run(arguments + ["--quiet"])
                try #require(r.status == 0, "\(arguments[0]): \(r.stderr)")
            }
            let result = try cli.run(["report", "--workspace", w.path, "--json"])
            #expect(result.status == status, "integrity \(name): \(result.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
            #expect(json?["dropped_without_thumbnail"] as? Int == dropped, "integrity \(name): \(result.stdout)")
            #expect(json?["thumbnail_failures"] as? Int == 1 - dropped, "integrity \(name): \(result.stdout)")
        }
    }
}
