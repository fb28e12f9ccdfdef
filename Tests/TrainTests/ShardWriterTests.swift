import Dataset
import Foundation
import GRDB
import Imaging
import Testing
import _DSBuildTestSupport
@testable import Train

@Suite("shards")
struct ShardWriterTests {
    @Test func indexCountsAndChecksumsMatchTheFiles() async throws {
        let fixture = try FixtureWorkspace()
        let (out, summary) = try await fixture.writeShards()
        let index = try ShardIndex.load(out, verify: true)
        #expect(index.textCount == summary.textRecords)
        #expect(index.pairedCount == summary.pairedSamples)
        #expect(index.fingerprint == summary.fingerprint)
        #expect(index.paired.count > 1)  // shard size 4 splits them
        #expect(index.paired.allSatisfy { $0.samples <= 4 })
        // 6 kept images, one per keyword; the 2 that test questions are asked on (every third keyword's questions are
        // test) are held out of training, so 4 train: 4 captions, and per training image its image-grounded and its
        // keyword's keyword-level description as text and paired (4 × 4); the held-out keywords' keyword-level
        // descriptions stay text-only records (2), having no training image to pair with.
        let questionImages = try fixture.workspace.manifest.read { db in
            try Set(String.fetchAll(db, sql: "SELECT image_sha256 FROM questions WHERE split = 'test' AND status = 'accepted'"))
        }
        let heldOut = fixture.summary.keptImages.filter(questionImages.contains).count
        #expect(heldOut == 2)
        #expect(summary.byKind["caption"] == 6 - heldOut)
        #expect(summary.excludedTestQuestions == fixture.summary.testQuestions)
        // Every train question is paired with its image; only Type 2 stems that do not point at an image are also
        // text-only records (Type 1 asks "what is in this image?").
        let textOnlyQuestions = try fixture.workspace.manifest.read { db in
            try Row.fetchAll(db, sql: "SELECT type, question FROM questions WHERE split = 'train' AND status = 'accepted'")
        }.filter { ($0["type"] as Int) == 2 && !ImageReference.refersToImage($0["question"]) }.count
        #expect(summary.byKind["qa"] == fixture.summary.trainQuestions + textOnlyQuestions)
        #expect(summary.byKind["description"] == 4 * (6 - heldOut) + heldOut)
    }

    @Test func droppedImagesAndTestQuestionsStayOut() async throws {
        let fixture = try FixtureWorkspace()
        let (out, _) = try await fixture.writeShards()
        let dropped = try #require(fixture.summary.droppedImage)
        let testIDs = try fixture.workspace.manifest.read { db in
            try String.fetchAll(db, sql: "SELECT id FROM questions WHERE split = 'test'")
        }
        #expect(!testIDs.isEmpty)
        for entry in try ShardIndex.load(out).paired {
            let tar = try Data(contentsOf: out.appendingPathComponent(entry.file))
            #expect(tar.range(of: Data(dropped.utf8)) == nil)
        }
        let textIDs = try textRecords(out).map { $0["id"] as? String ?? "" }
        let expectedTestTextIDs = testIDs.map { "t-" + ShardSampleBuilder.shortHash(["qa", $0]) }
        #expect(Set(textIDs).isDisjoint(with: expectedTestTextIDs))
    }

    @Test func textRecordsCarryNoImageBytesPathsOrTokens() async throws {
        let fixture = try FixtureWorkspace()
        let (out, _) = try await fixture.writeShards()
        let index = try ShardIndex.load(out)
        for entry in index.text {
            // The provenance's page URL (a Commons file page ends in .jpg) is allowed; nothing else may name an image.
            var text = try String(contentsOf: out.appendingPathComponent(entry.file), encoding: .utf8)
            text = text.replacingOccurrences(of: #""page_url":"[^"]*""#, with: "", options: .regularExpression)
            #expect(!text.contains("<image>"))
            #expect(!text.contains("images/"))
            #expect(!text.contains(".jpg"))
            #expect(!text.contains("/9j/"))  // base64 JPEG
            #expect(!text.contains("image_sha256"))
            for sha in fixture.summary.keptImages { #expect(!text.contains(sha)) }
        }
        for record in try textRecords(out) {
            #expect(record["image"] == nil && record["images"] == nil)
            let messages = try #require(record["messages"] as? [[String: String]])
            #expect(messages.count == 2 && messages[0]["role"] == "user" && messages[1]["role"] == "assistant")
            #expect(!messages[0]["content"]!.lowercased().contains("this image"))
        }
    }

    /// The builder reads the manifest a page of keywords at a time and the writer sorts and plans the records
    /// through a temporary file: how keywords are paged changes nothing written, and no record of a page leaks
    /// into another.
    @Test func keywordPagesOfAnySizeWriteTheSameBytes() async throws {
        let fixture = try FixtureWorkspace()
        let (whole, a) = try await fixture.writeShards("whole") { $0.pagePairs = .max }
        let (paged, b) = try await fixture.writeShards("paged") { $0.pagePairs = 1 }
        let (gzipWhole, _) = try await fixture.writeShards("gzip-whole") { $0.pagePairs = .max; $0.compression = .gzip; $0.textShardSize = 5 }
        let (gzipPaged, _) = try await fixture.writeShards("gzip-paged") { $0.pagePairs = 2; $0.compression = .gzip; $0.textShardSize = 5 }
        #expect(a.fingerprint == b.fingerprint)
        #expect(a.byKind == b.byKind && a.pairedShards == b.pairedShards && a.textShards == b.textShards)
        let wholeFiles = try files(whole)
        #expect(wholeFiles.keys.contains("shards.json") && wholeFiles.keys.contains("paired/00001.tar"))
        #expect(try wholeFiles == files(paged))
        #expect(try files(gzipWhole) == files(gzipPaged))
        for out in [whole, paged, gzipWhole, gzipPaged] {
            // The sort's scratch file is gone once the run ends.
            let left = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent(".progress").path)
            #expect(!left.contains { $0.hasPrefix("records.sqlite") }, "\(left)")
        }

        // With pages of one kept pair, each page holds one keyword's records only.
        var options = ShardSampleBuilder.Options()
        options.pagePairs = 1
        var pages: [Set<String>] = []
        var records = 0
        _ = try ShardSampleBuilder.stream(fixture.workspace.manifest, options: options) { page in
            pages.append(Set(page.text.map(\.keyword) + page.paired.map(\.keyword)))
            records += page.text.count + page.paired.count
        }
        let inputs = try ShardSampleBuilder.build(fixture.workspace.manifest, options: options)
        #expect(records == inputs.text.count + inputs.paired.count)
        #expect(pages.filter { !$0.isEmpty }.count >= 6)
        #expect(pages.allSatisfy { $0.count <= 1 }, "\(pages)")
    }

    @Test func twoRunsGiveIdenticalBytes() async throws {
        let fixture = try FixtureWorkspace()
        let (a, _) = try await fixture.writeShards("a")
        let (b, _) = try await fixture.writeShards("b") { $0.compression = .gzip }
        let (c, _) = try await fixture.writeShards("c")
        let (d, _) = try await fixture.writeShards("d") { $0.compression = .gzip }
        #expect(try files(a) == files(c))
        #expect(try files(b) == files(d))
        #expect(try files(a).keys.contains("paired/00000.tar"))
        #expect(try files(b).keys.contains("text/00000.jsonl.gz"))
        // The gzip text decompresses to the plain text.
        let plain = try Data(contentsOf: a.appendingPathComponent("text/00000.jsonl"))
        let unzipped = try runProcess(["gzip", "-dc", b.appendingPathComponent("text/00000.jsonl.gz").path])
        #expect(unzipped.status == 0)
        #expect(Data(unzipped.stdout.utf8) == plain)
        // zstd: reproducible too, smaller than the plain text, and the zstd tool gives the plain text back.
        let (e, _) = try await fixture.writeShards("e") { $0.compression = .zstd }
        let (f, _) = try await fixture.writeShards("f") { $0.compression = .zstd }
        #expect(try files(e) == files(f))
        let zst = e.appendingPathComponent("text/00000.jsonl.zst")
        #expect(try Data(contentsOf: zst).count < plain.count)
        let unzstd = try runProcess(["zstd", "-dc", zst.path])
        #expect(unzstd.status == 0, "\(unzstd.stderr)")
        #expect(Data(unzstd.stdout.utf8) == plain)
    }

    @Test func rerunReusesFinishedShardsAndRewritesDamagedOnes() async throws {
        let fixture = try FixtureWorkspace()
        let (out, first) = try await fixture.writeShards()
        let before = try files(out)
        let (_, second) = try await fixture.writeShards()
        #expect(second.written == 0)
        #expect(second.reused == first.textShards + first.pairedShards)
        // A truncated shard (not a whole file) is written again.
        let victim = out.appendingPathComponent("paired/00001.tar")
        let data = try Data(contentsOf: victim)
        try data.prefix(1000).write(to: victim)
        let (_, third) = try await fixture.writeShards()
        #expect(third.written == 1)
        #expect(try files(out) == before)
    }

    @Test func novelKeywordsAreHeldOutAndRecorded() async throws {
        let fixture = try FixtureWorkspace()
        let (out, summary) = try await fixture.writeShards { $0.novelFraction = 0.34; $0.seed = 7 }
        #expect(summary.novelKeywords.count == 2)
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("shards.json"))) as? [String: Any]
        #expect(index?["novel_keywords"] as? [String] == summary.novelKeywords)
        for record in try textRecords(out) where record["kind"] as? String == "description" {
            #expect(!summary.novelKeywords.contains(record["keyword"] as? String ?? ""))
        }
    }

    /// `resize` re-encodes every paired image with `ImageTransformer` (a build without the codecs, where this was an
    /// error, no longer exists: Imaging sits below Train).
    @Test func resizeWritesEveryPairedImageAtTheRequestedSize() async throws {
        let fixture = try FixtureWorkspace(images: 1)
        let (out, summary) = try await fixture.writeShards { $0.resize = ImageTransformRequest(mode: .keepRatio, size: 256, quality: 90) }
        #expect(summary.imageCounts["resized"] == summary.imageCounts["images"])
        let paired = out.appendingPathComponent("paired")
        var images = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: paired.path) where name.hasSuffix(".tar") {
            for member in try TarReading.members(Data(contentsOf: paired.appendingPathComponent(name)))
            where member.name.hasSuffix(".jpg") || member.name.hasSuffix(".png") {
                let probe = try ImageProber.probe(data: member.data)
                #expect(max(probe.width, probe.height) == 256, "\(member.name)")
                images += 1
            }
        }
        #expect(images > 0)
    }

    @Test func tarHeadersAreValidUstar() throws {
        var tar = TarWriter()
        try tar.append(name: "p-0123456789abcdef.txt", contents: Data("hello".utf8))
        let data = tar.finished()
        #expect(data.count == 512 + 512 + 1024)
        let dir = TemporaryDirectory()
        let file = dir.path("t.tar")
        try data.write(to: file)
        let listing = try runProcess(["tar", "-tvf", file.path])
        #expect(listing.status == 0)
        #expect(listing.stdout.contains("p-0123456789abcdef.txt"))
        #expect(listing.stdout.contains("1970-01-01"))
    }

    /// The real clients: webdataset iterates every paired sample; HF datasets loads the text JSONL and the tars;
    /// the bundled trainer's reader loads both. Plain, gzip and zstd text shards alike.
    @Test(arguments: [ShardSettings.Compression.none, .gzip, .zstd])
    func webdatasetAndHFDatasetsReadTheShardsUnchanged(compression: ShardSettings.Compression) async throws {
        let fixture = try FixtureWorkspace()
        let (out, summary) = try await fixture.writeShards("out-\(compression.rawValue)") { $0.compression = compression }
        #expect(try files(out).keys.contains { $0.hasPrefix("text/") && $0.hasSuffix(compression == .none ? ".jsonl" : compression == .gzip ? ".jsonl.gz" : ".jsonl.zst") })
        guard let python = Interop.pythonOrFail() else { return }
        let script = TestPaths.repositoryRoot.appendingPathComponent("scripts/interop/check_shards.py").path
        let result = try runProcess([python.path, script, out.path])
        try #require(result.status == 0, "check_shards.py failed: \(result.stderr.suffix(3000))")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let wds = try #require(report["webdataset"] as? [String: Any])
        let samples = try #require(wds["samples"] as? [String: [String: Any]])
        #expect(wds["count"] as? Int == summary.pairedSamples)
        // Every sample: json key matches the tar key, image bytes are the stored original, txt is the assistant's text
        // (for descriptions and captions) and the manifest's text.
        let acceptedTexts = Set(try fixture.workspace.manifest.read { db in
            try String.fetchAll(db, sql: "SELECT text FROM descriptions WHERE status = 'accepted'")
        })
        for (key, sample) in samples {
            #expect(sample["json_key"] as? String == key)
            #expect(sample["image_sha256"] as? String == sample["json_image_sha256"] as? String)
            #expect(fixture.summary.keptImages.contains(sample["image_sha256"] as? String ?? ""))
            let decoded = sample["decoded"] as? [Int] ?? []
            #expect(decoded.count == 2 && decoded[0] > 0 && decoded[1] > 0)
            let messages = sample["messages"] as? [[String: String]] ?? []
            let txt = sample["txt"] as? String ?? ""
            switch sample["kind"] as? String {
            case "description":
                #expect(acceptedTexts.contains(txt))
                #expect(messages.last?["content"] == txt)
            case "caption": #expect(txt == "This image shows \(sample["keyword"] as? String ?? "").")
            default: #expect(txt.count > 3)
            }
            #expect(sample["license"] as? String == "CC BY-SA 4.0")
        }
        let ds = try #require(report["datasets"] as? [String: Any])
        #expect(ds["text_rows"] as? Int == summary.textRecords)
        #expect(ds["paired_rows"] as? Int == summary.pairedSamples)
        #expect((ds["text_columns"] as? [String])?.contains("messages") == true)
        #expect((ds["paired_columns"] as? [String]).map { Set($0).isSuperset(of: ["jpg", "json", "txt"]) } == true)
        let trainer = try #require(report["trainer"] as? [String: Any])
        #expect(trainer["text"] as? Int == summary.textRecords)
        #expect(trainer["paired"] as? Int == summary.pairedSamples)
        #expect(trainer["paired_image_bytes_ok"] as? Bool == true)
    }

    /// Killing `dsbuild shards` mid-shard and running it again gives the same bytes as an uninterrupted run,
    /// rewriting only what was missing.
    @Test func resumeAfterSIGKILLMidShardGivesIdenticalShards() async throws {
        let fixture = try FixtureWorkspace()
        let killedOut = fixture.dir.path("killed")
        let slow = CommandRunner(environment: ["DSBUILD_TEST_SHARD_DELAY_MS": "300"])
        let args = ["shards", "--workspace", fixture.workspace.root.path, "--shard-size", "4", "--json", "--quiet"]
        let running = try slow.start(args + ["--out", killedOut.path])
        let firstTar = killedOut.appendingPathComponent("paired/00000.tar")
        let deadline = Date().addingTimeInterval(120)
        var sawFirst = false
        while Date() < deadline {
            if FileManager.default.fileExists(atPath: firstTar.path) { sawFirst = true; break }
            if !running.process.isRunning { break }
            usleep(10_000)  // not Task.sleep: the cooperative pool may be busy with other tests' blocking work
        }
        usleep(400_000)  // into the second shard (4 samples × 300 ms)
        running.kill()
        let killed = running.wait()
        #expect(killed.signalled)
        try #require(sawFirst, "the first shard never appeared: \(killed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: killedOut.appendingPathComponent("shards.json").path))
        // No partial final shard: every tar present is whole (its marker matches) — partial data only in a temporary.
        let resumed = try CommandRunner().run(args + ["--out", killedOut.path])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let json = try resumed.json()
        #expect((json["reused"] as? Int ?? 0) >= 1)
        let cleanOut = fixture.dir.path("clean")
        let clean = try CommandRunner().run(args + ["--out", cleanOut.path])
        #expect(clean.status == 0, "\(clean.stderr)")
        #expect(try files(killedOut) == files(cleanOut))
    }

    // MARK: Helpers

    func textRecords(_ out: URL) throws -> [[String: Any]] {
        var records: [[String: Any]] = []
        for entry in try ShardIndex.load(out).text {
            let text = try String(contentsOf: out.appendingPathComponent(entry.file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                records.append(try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]))
            }
        }
        return records
    }

    /// Every file under `dir` (markers and temporaries excluded) by relative path.
    func files(_ dir: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let base = dir.standardizedFileURL.path
        guard let e = FileManager.default.enumerator(atPath: base) else { return [:] }
        for case let rel as String in e {
            if rel.hasPrefix(".progress") || (rel as NSString).lastPathComponent.hasPrefix(".") { continue }
            var isDir: ObjCBool = false
            let path = base + "/" + rel
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue {
                out[rel] = try Data(contentsOf: URL(fileURLWithPath: path))
            }
        }
        return out
    }
}
