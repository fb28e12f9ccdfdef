import Dataset
import Foundation
import Imaging
import Testing
import _DSBuildTestSupport

/// Issue 19 end to end through the commands, on real K-Viscuit photos: a LAION-style parquet URL list (made by
/// pyarrow in the interop venv) served by a loopback image server → `collect` (the `urls` source reading the
/// parquet a batch at a time; two bad rows named by their row number) → `filter` → `describe` → `mcq` →
/// `shards`, whose paired tars get img2dataset's `NNNNN.parquet` and `NNNNN_stats.json`, read back by pyarrow,
/// webdataset and NeMo Curator's way (parquet partitions sorted by key beside sorted tars). One photo is EXIF-rotated
/// with a Korean artist tag: the shards carry it upright, its `exif` says how it came.
/// Opt-in like the other tests that run the bundled Python: `DSBUILD_TRAINER_PYTHON`.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["DSBUILD_TRAINER_PYTHON"] != nil))
struct ParquetPipelineTests {
    static let photos: [(String, String)] = [("6.jpg", "1.jpg"), ("9.jpg", "4.jpg"), ("13.jpg", "31.jpg"), ("17.jpg", "11.jpg"),
                                             ("19.jpg", "14.jpg"), ("29.jpg", "26.jpg")]
    /// The photos served EXIF-rotated (orientation 6) with an artist tag in Hangul (the split decides which train).
    static let rotated: Set<String> = ["11.jpg", "26.jpg"]
    static let artist = "김민지"

    /// The JPEG without its APP1 (EXIF/XMP) segments: the photo as a camera that wrote no EXIF would give it.
    static func withoutAPP1(_ jpeg: Data) -> Data {
        let bytes = [UInt8](jpeg)
        var out: [UInt8] = [0xFF, 0xD8]
        var i = 2
        while i + 4 <= bytes.count, bytes[i] == 0xFF {
            let marker = bytes[i + 1]
            if marker == 0xDA { break }  // start of scan: the rest is image data
            let length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            if marker != 0xE1 { out += bytes[i..<(i + 2 + length)] }
            i += 2 + length
        }
        return Data(out + bytes[i...])
    }

    @Test func aParquetListGoesThroughThePipelineIntoTarsWithImg2DatasetParquetAndStats() throws {
        let tmp = TemporaryDirectory("dsbuild-parquet-e2e")
        let items = try KViscuitFixture.type1Items()
        var bodies: [String: Data] = [:]
        var rows: [[String: Any]] = []
        for (first, second) in Self.photos {
            let item = try #require(items.first { $0.imagePath == first })
            for name in [first, second] {
                var data = try Data(contentsOf: TestPaths.kViscuitImages.appendingPathComponent(name))
                if Self.rotated.contains(name) {
                    data = ImageFactory.insertAfterSOI(Self.withoutAPP1(data), [ImageFactory.exifAPP1(orientation: 6, artist: Self.artist)])
                }
                bodies["/img/\(name)"] = data
                rows.append(["name": name, "keyword": item.keyword, "text": "\(item.keyword), photographed for K-Viscuit"])
            }
        }
        let served = bodies
        let images = try LoopbackHTTPServer { request in
            guard let body = served[request.path] else { return .status(404) }
            return .ok(body, contentType: "image/jpeg")
        }
        defer { images.stop() }
        let base = images.url("/img/").absoluteString
        // Every URL carries credentials in its userinfo: the download needs them, no output may carry them.
        let secret = "sk-USERINFO-SECRET-4711"
        let credentialed = base.replacingOccurrences(of: "http://", with: "http://user:\(secret)@")
        // The list: LAION's columns, a keyword column, and two bad rows (no URL; a control character in the keyword).
        let list = tmp.path("laion.parquet")
        let spec = try JSONSerialization.data(withJSONObject: ["base": credentialed, "rows": rows])
        try spec.write(to: tmp.path("spec.json"))
        let made = try InteropPython.run("""
            import json, sys, pyarrow as pa, pyarrow.parquet as pq
            spec = json.load(open(sys.argv[1]))
            rows = spec["rows"]
            url = [spec["base"] + r["name"] for r in rows] + [None, spec["base"] + "6.jpg"]
            text = [r["text"] for r in rows] + ["no url", "bad keyword"]
            keyword = [r["keyword"] for r in rows] + [rows[0]["keyword"], "bad\\x07keyword"]
            n = len(url)
            pq.write_table(pa.table({
                "URL": url, "TEXT": text, "keyword": keyword,
                "WIDTH": pa.array([1024.0] * n), "HEIGHT": pa.array([768.0] * n),
                "LICENSE": ["CC BY 4.0"] * n, "pwatermark": [0.02] * n, "punsafe": [0.001] * n,
            }), sys.argv[2], row_group_size=5)
            """, [tmp.path("spec.json").path, list.path])
        try #require(made.status == 0, "pyarrow: \(made.stderr)")

        let chat = FakeChatEndpoint(responder: PipelineChatResponder.respondAsAModel)
        let server = try chat.serve()
        defer { server.stop() }
        let cli = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-parquet-0123456789"])
        try """
            name: parquet-e2e
            llm:
              model: fake-model
              concurrency: 4
              image_max_side: 256
            collect:
              sources:
                urls:
                  file: \(list.path)
                  url_column: URL
                  caption_column: TEXT
                  keyword_column: keyword
            filter:
              min_short_side: 32
              aspect_ratio: [0.3, 3.0]
            describe:
              aspects: [visual]
              modes: [image-grounded]
              languages: [en]
              concurrency: 4
            mcq:
              types: [1, 2]
              per_keyword: 4
              split_by: image
              test_fraction: 0.3
              seed: 7
              concurrency: 4
            shards:
              shard_size: 8
              parquet: required
            """.write(to: tmp.path("recipe.yaml"), atomically: true, encoding: .utf8)
        let ws = tmp.path("ws").path
        #expect(try cli.run(["init", ws, "--recipe", tmp.path("recipe.yaml").path, "--quiet"]).status == 0)
        let collect = try cli.run(["collect", "--workspace", ws, "--allow-host", "127.0.0.1:\(images.port)", "--quiet"])
        // The two bad rows, each in one line naming the file and row; the rest collected; exit 1 says so.
        #expect(collect.status == 1, "\(collect.stderr)")
        #expect(collect.stderr.contains("laion.parquet:13: empty `URL`"), "\(collect.stderr)")
        #expect(collect.stderr.contains("laion.parquet:14: contains the control character U+0007"), "\(collect.stderr)")
        #expect(!collect.stderr.contains("sk-parquet") && !collect.stderr.contains(secret))
        let downloaded = try Hardening.rows(tmp.path("ws"), "SELECT COUNT(*) FROM downloads WHERE status = 'ok'")
        #expect(downloaded == [["12"]])
        let extra = try Hardening.rows(tmp.path("ws"), "SELECT extra FROM candidates WHERE image_url LIKE '%/6.jpg'")
        #expect(extra.first?.first?.contains("\"pwatermark\":\"0.02\"") == true, "\(extra)")
        for command in ["filter", "describe", "mcq"] {
            let r = try cli.run([command, "--workspace", ws, "--quiet"])
            #expect(r.status == 0, "\(command): \(r.stderr)")
        }
        let shards = try cli.run(["shards", "--workspace", ws, "--json", "--quiet"])
        try #require(shards.status == 0, "\(shards.stderr)")
        let storedLicense = try Hardening.rows(tmp.path("ws"), "SELECT DISTINCT license FROM candidates WHERE license IS NOT NULL")
        #expect(storedLicense.count == 1, "\(storedLicense)")
        let out = tmp.path("ws/shards")
        let report = try InteropPython.run(nil,
                                              [TestPaths.repositoryRoot.appendingPathComponent("scripts/interop/check_img2dataset.py").path, out.path])
        try #require(report.status == 0, "check_img2dataset.py: \(report.stderr.suffix(3000))")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let shardReports = try #require(json["shards"] as? [[String: Any]])
        #expect(!shardReports.isEmpty)
        var sawRotated = false
        var samplesSeen = 0
        for shard in shardReports {
            let rows = try #require(shard["rows"] as? [[String: Any]])
            let samples = try #require(shard["samples"] as? [[String: Any]])
            samplesSeen += samples.count
            #expect(rows.map { $0["key"] as? String } == samples.map { $0["key"] as? String })
            let stats = try #require(shard["stats"] as? [String: Any])
            #expect(stats["count"] as? Int == samples.count && stats["successes"] as? Int == samples.count)
            #expect((stats["duration"] as? Double ?? 0) > 0, "the download time of the shard's images")
            for (row, sample) in zip(rows, samples) {
                #expect(row["sha256"] as? String == sample["sha256"] as? String)
                #expect([row["width"] as? Int ?? -1, row["height"] as? Int ?? -1] == sample["decoded"] as? [Int])
                let meta = try #require(sample["json"] as? [String: Any])
                // The .json member and the parquet row agree, and name the image's real source.
                #expect(meta["width"] as? Int == row["width"] as? Int && meta["height"] as? Int == row["height"] as? Int)
                let url = try #require(row["url"] as? String, "\(meta)")
                #expect(url.hasPrefix(base) && served["/img/" + String(url.dropFirst(base.count))] != nil, "\(url)")
                #expect(meta["url"] as? String == url && meta["status"] as? String == "success")
                #expect(row["license"] as? String == storedLicense.first?.first)
                if let name = url.split(separator: "/").last.map(String.init), Self.rotated.contains(name) {
                    sawRotated = true
                    let exif = try #require(row["exif"] as? String)
                    let tags = try #require(try JSONSerialization.jsonObject(with: Data(exif.utf8)) as? [String: String])
                    #expect(tags == ["Image Orientation": "Rotated 90 CW", "Image Artist": Self.artist], "\(exif)")
                    #expect(meta["exif"] as? String == exif)
                    // Upright in the tar: the written size is the original's upright size.
                    #expect(row["width"] as? Int == row["original_width"] as? Int && row["height"] as? Int == row["original_height"] as? Int)
                    let raw = try ImageProber.probe(data: try Data(contentsOf: TestPaths.kViscuitImages.appendingPathComponent(name)))
                    #expect(sample["decoded"] as? [Int] == [raw.height, raw.width], "rotated 90° to stand upright")
                } else if let exif = row["exif"] as? String {
                    // The camera's own tags, as exifread names them: an upright photo says so.
                    let tags = try #require(try JSONSerialization.jsonObject(with: Data(exif.utf8)) as? [String: String], "\(exif)")
                    #expect(Set(tags.keys).isSubset(of: ["Image Orientation", "Image Artist", "Image Copyright"]), "\(exif)")
                    #expect(tags["Image Orientation"] == nil || tags["Image Orientation"] == "Horizontal (normal)", "\(exif)")
                    #expect(meta["exif"] as? String == exif)
                }
            }
        }
        let splits = try Hardening.rows(tmp.path("ws"), "SELECT c.image_url, s.split FROM candidates c JOIN downloads d ON d.candidate_id = c.id LEFT JOIN splits s ON s.image_sha256 = d.image_sha256 ORDER BY c.image_url")
        #expect(sawRotated, "the rotated photo is in the paired shards: \(splits)")
        let summary = try shards.json()
        #expect(samplesSeen == summary["paired"] as? Int)
        let nemo = try #require(json["nemo"] as? [String: Any])
        #expect(nemo["aligned"] as? Bool == true && nemo["partitions"] as? Int == shardReports.count)
        // A rerun writes nothing and keeps every byte.
        let again = try cli.run(["shards", "--workspace", ws, "--json", "--quiet"])
        #expect(try again.json()["written"] as? Int == 0)
        // `check` audits the parquet and stats with the shards (`shards_intact`): whole, they pass; a changed parquet
        // is named. (A LAION list names no author or page: `provenance` reports that, as for any such list.)
        func shardsIntact() throws -> [String: Any] {
            let check = try cli.run(["check", "--workspace", ws, "--json"])
            let checks = try #require(try check.json()["checks"] as? [String: Any], "\(check.stderr)")
            return try #require(checks["shards_intact"] as? [String: Any])
        }
        #expect(try shardsIntact()["ok"] as? Bool == true)
        let parquet = out.appendingPathComponent("paired/00000.parquet")
        var bytes = try Data(contentsOf: parquet)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: parquet)
        let tampered = try shardsIntact()
        #expect(tampered["ok"] as? Bool == false)
        let examples = (tampered["examples"] as? [String] ?? []).joined(separator: "\n")
        #expect(examples.contains("paired/00000.parquet") && examples.contains("shards.json records"), "\(tampered)")
        // A rerun puts the recorded parquet back (its sha256, not only its size, is compared) and counts it.
        let repaired = try cli.run(["shards", "--workspace", ws, "--json", "--quiet"])
        let repairedSummary = try repaired.json()
        #expect(repairedSummary["written"] as? Int == 0 && repairedSummary["sidecars_written"] as? Int == 1, "\(repairedSummary)")
        #expect(try shardsIntact()["ok"] as? Bool == true)
        // The credentials stay in the manifest (the download needs them) and in no file of the shards.
        #expect(try Hardening.rows(tmp.path("ws"), "SELECT COUNT(*) FROM candidates WHERE image_url LIKE '%\(secret)%'") == [["12"]])
        let files = FileManager.default.enumerator(at: out, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        #expect(files.count > 3)
        for file in files where !file.hasDirectoryPath {
            let data = try Data(contentsOf: file)
            #expect(data.range(of: Data(secret.utf8)) == nil && data.range(of: Data("user:".utf8)) == nil, "\(file.lastPathComponent) carries the URL's credentials")
        }
    }
}
