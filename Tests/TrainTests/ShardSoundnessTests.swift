import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport
@testable import Train

/// The training artifacts of a workspace built through the commands (`dsbuild run`: directory source over real
/// K-Viscuit images plus world-like inputs, loopback chat fake), read by the real clients: nothing of a test
/// image (or of a near duplicate of one) in any training artifact, no image-referring question in text shards,
/// every image upright and in one format.
@Suite("shard soundness", .serialized)
struct ShardSoundnessTests {
    /// The world-like inputs, by role.
    typealias World = WorldImage

    /// A workspace built once for the suite.
    struct Built: @unchecked Sendable {
        let tmp: TemporaryDirectory
        let workspace: URL
        let shards: URL
        let chat: FakeChatEndpoint
        let runOutput: [String: Any]
        /// The byte-different copies of keyword 0's images placed under keyword 1.
        let nearDuplicateVariants: [String]
    }

    /// Built on first use; the suite's tests read it (and never write to the workspace except `shards` outputs).
    nonisolated(unsafe) static let built: Result<Built, any Error> = Result { try build() }

    /// MCQ answers as a real model writes them over an experiment (`PipelineChatResponder.respondAsAModel`): some
    /// Type 2 stems, or one of their options, point at the image.
    static func responder(_ body: [String: Any]) -> FakeChatEndpoint.Behaviour { PipelineChatResponder.respondAsAModel(body) }

    static func build() throws -> Built {
        let tmp = TemporaryDirectory.shared("dsbuild-sound")
        let src = tmp.path("src")
        let photos = try PhotoFolder(root: src)
        let items = try KViscuitFixture.type1Items().filter {
            FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
        }
        var seenKeyword = Set<String>(), seenImage = Set<String>()
        // Keywords 0–7: three K-Viscuit images each (one is held out per keyword). Keywords 8–12: one world-like
        // image each, alone, so it is a train image (a keyword with one kept image has no test image).
        let keywords = items.filter { seenKeyword.insert($0.keyword).inserted && !$0.keyword.contains("/") }.prefix(8 + World.allCases.count).map(\.keyword)
        let pool = items.filter { seenImage.insert($0.imagePath).inserted }
        var next = 0
        func copyKViscuit(_ count: Int, keyword: String) throws -> [(data: Data, item: KViscuitFixture.Item)] {
            var out: [(Data, KViscuitFixture.Item)] = []
            for _ in 0..<count {
                let file = try photos.add(pool[next], keyword: keyword, named: "kv-\(next).jpg")
                out.append((try Data(contentsOf: file), pool[next]))
                next += 1
            }
            return out
        }
        var variants: [String] = []
        for (i, keyword) in keywords.enumerated() {
            if i >= 8 {
                let world = World.allCases[i - 8]
                try photos.add(world.data, named: world.rawValue, keyword: keyword, attribution: .madeByTest(world.rawValue))
                continue
            }
            let originals = try copyKViscuit(3, keyword: keyword)
            switch i {
            case 0:
                // Keyword 1 gets a byte-different copy (a JPEG comment added) of each: same pixels, other sha.
                for (n, original) in originals.enumerated() {
                    let variant = ImageFactory.insertAfterSOI(original.data, [ImageFactory.jpegSegment(0xFE, ImageFactory.ascii("near duplicate \(n)"))])
                    try photos.add(variant, named: "variant-\(n).jpg", keyword: keywords[1], attribution: .kViscuit(original.item))
                    variants.append(ContentHash.sha256Hex(variant))
                }
            default: break
            }
        }
        try (keywords.joined(separator: "\n") + "\n").write(to: tmp.path("keywords.txt"), atomically: true, encoding: .utf8)
        let recipe = tmp.path("recipe.yaml")
        try """
            name: sound
            keywords: keywords.txt
            contact: https://example.org/dsbuild-tests
            llm:
              model: fake-model
              concurrency: 2
              image_max_side: 256
            collect:
              per_keyword: 20
              concurrency: 2
              sources:
                directory:
                  path: \(src.path)
            filter:
              min_short_side: 32
              aspect_ratio: [0.3, 3.0]
            describe:
              aspects: [visual]
              modes: [text-only, image-grounded]
              languages: [en]
              images_per_keyword: 20
              concurrency: 2
            mcq:
              types: [1, 2]
              seed: 7
              concurrency: 2
            shards:
              out: shards
              shard_size: 16
            """.write(to: recipe, atomically: true, encoding: .utf8)
        let chat = FakeChatEndpoint(responder: responder)
        let server = try chat.serve()
        defer { server.stop() }
        let cli = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-test-sound"])
        let ws = tmp.path("ws")
        let run = try cli.run(["run", recipe.path, "--workspace", ws.path, "--json"])
        guard run.status == 0 else { throw SetupError("dsbuild run failed (\(run.status)): \(run.stderr.suffix(3000))") }
        let shards = ws.appendingPathComponent("shards")
        let exports = try cli.run(["shards", "--workspace", ws.path, "--export", "llava", "--export", "llama-factory",
                                   "--export", "openai", "--export", "mcq", "--json", "--quiet"])
        guard exports.status == 0 else { throw SetupError("dsbuild shards --export failed: \(exports.stderr.suffix(3000))") }
        return Built(tmp: tmp, workspace: ws, shards: shards, chat: chat, runOutput: try exports.json(), nearDuplicateVariants: variants)
    }

    struct SetupError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    // MARK: What the manifest says

    struct Truth {
        var testImages: Set<String> = []
        var nearTest: Set<String> = []
        var kept: Set<String> = []
        var stored: [String: (path: String, format: String, orientation: Int, width: Int, height: Int)] = [:]
        var testGroundedDescriptions: Set<String> = []
        var type1IDs: Set<String> = []
        var type2TrainImageRefIDs: Set<String> = []
        /// Image-referring through an option only (the stem is plain).
        var type2TrainOptionRefIDs: Set<String> = []
        var type2TrainPlainIDs: Set<String> = []
        var questionImage: [String: String] = [:]
        var storedSplit: SplitSettings?
    }

    static func truth(_ built: Built) throws -> Truth {
        let ws = try Workspace.open(at: built.workspace)
        return try ws.manifest.read { db in
            var t = Truth()
            t.storedSplit = try ExperimentSplit.storedSettings(in: db)
            t.testImages = Set(try String.fetchAll(db, sql: "SELECT DISTINCT image_sha256 FROM splits WHERE split = 'test' AND image_sha256 != ''"))
            t.kept = Set(try KeptPairs.all(in: db).map(\.sha256))
            var hashes: [String: UInt64] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT sha256, path, format, orientation, COALESCE(display_width, width) AS w, COALESCE(display_height, height) AS h, phash FROM images") {
                let sha: String = row["sha256"]
                t.stored[sha] = (row["path"], row["format"], row["orientation"] ?? 1, row["w"], row["h"])
                if let p: String = row["phash"], let v = UInt64(p, radix: 16) { hashes[sha] = v }
            }
            for sha in t.kept.subtracting(t.testImages) {
                guard let h = hashes[sha] else { continue }
                if t.testImages.contains(where: { hashes[$0].map { ($0 ^ h).nonzeroBitCount <= 8 } ?? false }) { t.nearTest.insert(sha) }
            }
            for row in try Row.fetchAll(db, sql: "SELECT image_sha256, text FROM descriptions WHERE status = 'accepted' AND mode = 'image-grounded'") {
                if t.testImages.contains(row["image_sha256"] as String) { t.testGroundedDescriptions.insert(row["text"]) }
            }
            for row in try Row.fetchAll(db, sql: "SELECT id, type, question, options, split, image_sha256 FROM questions WHERE status = 'accepted'") {
                let id: String = row["id"]
                t.questionImage[id] = row["image_sha256"] ?? ""
                if (row["type"] as Int) == 1 { t.type1IDs.insert(id); continue }
                guard (row["split"] as String) == "train" else { continue }
                // The stem or any option: the record holds both.
                let options = (try? JSONSerialization.jsonObject(with: Data((row["options"] as String? ?? "[]").utf8)) as? [String]) ?? []
                if ImageReference.refersToImage(([row["question"] as String] + options).joined(separator: "\n")) {
                    t.type2TrainImageRefIDs.insert(id)
                    if !ImageReference.refersToImage(row["question"] as String) { t.type2TrainOptionRefIDs.insert(id) }
                } else {
                    t.type2TrainPlainIDs.insert(id)
                }
            }
            return t
        }
    }

    /// What the real clients (`scripts/interop/inspect_images.py`) see in the shards and in every image file the
    /// suite's tests look at, read once: each start of the script loads webdataset and Hugging Face datasets and
    /// reads every shard, whatever files it is given. nil without the interop Python (the tests then stop early).
    nonisolated(unsafe) static let inspected: Result<[String: Any]?, any Error> = Result {
        guard case .success(let python) = Interop.python else { return nil }
        let built = try Self.built.get()
        let files = rotatedSources(built, try truth(built)) + (try exportImageFiles(built).files) + (try requestImageFiles(built))
        let script = TestPaths.repositoryRoot.appendingPathComponent("scripts/interop/inspect_images.py").path
        let result = try runProcess([python.path, script, built.shards.path] + files.map(\.path))
        guard result.status == 0 else { throw SetupError("inspect_images.py failed: \(result.stderr.suffix(3000))") }
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
    }

    /// The shared inspection (nil without the interop Python, which `pythonOrFail` reports).
    static func inspect() throws -> [String: Any]? {
        guard Interop.pythonOrFail() != nil else { return nil }
        return try inspected.get()
    }

    /// What the clients saw of `files` (each inspected with the shards).
    static func inspect(files: [URL]) throws -> [String: [String: Any]]? {
        guard let seen = try inspect() else { return nil }
        let all = try #require(seen["files"] as? [String: [String: Any]])
        let paths = Set(files.map(\.path))
        return all.filter { paths.contains($0.key) }
    }

    /// The stored files of the two EXIF-rotated world images (their pixels are sideways).
    static func rotatedSources(_ built: Built, _ t: Truth) -> [URL] {
        [World.rotated6, World.rotated8].map { built.workspace.appendingPathComponent(t.stored[$0.sha]!.path) }
    }

    /// The image files of the path-based exports, and the OpenAI export's embedded images written out as files
    /// (`openai-images/<n>.img`, in the order the export holds them).
    static func exportImageFiles(_ built: Built) throws -> (files: [URL], embedded: Int) {
        let exports = built.shards.appendingPathComponent("exports")
        var files: [URL] = []
        for folder in ["images", "mcq_test/images"] {
            let dir = exports.appendingPathComponent(folder)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] { files.append(dir.appendingPathComponent(name)) }
        }
        let openaiDir = built.tmp.path("openai-images")
        try FileManager.default.createDirectory(at: openaiDir, withIntermediateDirectories: true)
        var n = 0
        for image in ByteScan.dataURLImages(try Data(contentsOf: exports.appendingPathComponent("openai.jsonl"))) {
            let file = openaiDir.appendingPathComponent("\(n).img")
            try image.write(to: file)
            files.append(file)
            n += 1
        }
        return (files, n)
    }

    /// Every image the model was sent while the workspace was built, written out as `request-images/<n>.img`.
    static func requestImageFiles(_ built: Built) throws -> [URL] {
        let dir = built.tmp.path("request-images")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var files: [URL] = []
        for body in built.chat.bodies {
            for image in ByteScan.dataURLImages(try JSONSerialization.data(withJSONObject: body, options: [.withoutEscapingSlashes])) {
                let file = dir.appendingPathComponent("\(files.count).img")
                try image.write(to: file)
                files.append(file)
            }
        }
        return files
    }

    static func sampleJSONs(_ shards: URL) throws -> [[String: Any]] {
        var out: [[String: Any]] = []
        for entry in try ShardIndex.load(shards).paired {
            let tar = try Data(contentsOf: shards.appendingPathComponent(entry.file))
            for member in try TarReading.members(tar) where member.name.hasSuffix(".json") {
                out.append(try #require(try JSONSerialization.jsonObject(with: member.data) as? [String: Any]))
            }
        }
        return out
    }

    static func textRecords(_ shards: URL) throws -> [[String: Any]] {
        var records: [[String: Any]] = []
        for entry in try ShardIndex.load(shards).text {
            for line in try String(contentsOf: shards.appendingPathComponent(entry.file), encoding: .utf8).split(separator: "\n") {
                records.append(try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]))
            }
        }
        return records
    }

    // MARK: (a) the split

    @Test func noTrainingArtifactCarriesATestImageOrANearDuplicateOfOne() throws {
        let built = try Self.built.get()
        let t = try Self.truth(built)
        try #require(!t.testImages.isEmpty)
        // The byte-different copies of keyword 0's images: whichever of a pair is held out, the other is too.
        #expect(!t.nearTest.isEmpty, "no near duplicate of a test image straddles the split; the fixture does not exercise the rule")
        let forbidden = t.testImages.union(t.nearTest)

        let samples = try Self.sampleJSONs(built.shards)
        try #require(!samples.isEmpty)
        for s in samples {
            let sha = s["image_sha256"] as? String ?? ""
            #expect(!forbidden.contains(sha), "paired sample \(s["key"] ?? "") carries held-out image \(sha.prefix(12))")
            #expect(!forbidden.contains(s["written_sha256"] as? String ?? ""))
        }
        // Raw bytes: no tar contains a held-out image's stored bytes.
        for entry in try ShardIndex.load(built.shards).paired {
            let tar = try Data(contentsOf: built.shards.appendingPathComponent(entry.file))
            for member in try TarReading.members(tar) where !member.name.hasSuffix(".json") && !member.name.hasSuffix(".txt") {
                #expect(!forbidden.contains(ContentHash.sha256Hex(member.data)), "\(entry.file) \(member.name)")
            }
        }
        // Text shards: no held-out sha, no image-grounded description of a test image.
        let records = try Self.textRecords(built.shards)
        for r in records {
            let line = String(decoding: try JSONSerialization.data(withJSONObject: r), as: UTF8.self)
            for sha in forbidden { #expect(!line.contains(sha)) }
            #expect(!t.testGroundedDescriptions.contains(r["text"] as? String ?? ""), "text record \(r["id"] ?? "") describes a test image")
        }
        #expect(!t.testGroundedDescriptions.isEmpty)

        // Exports: image folders and files name no held-out image; the OpenAI export embeds none of their bytes.
        let exports = built.shards.appendingPathComponent("exports")
        let placed = try FileManager.default.contentsOfDirectory(atPath: exports.appendingPathComponent("images").path)
        #expect(!placed.isEmpty)
        for name in placed { #expect(!forbidden.contains(String(name.prefix(64))), "exports/images/\(name)") }
        for file in ["llava.json", "llama_factory_paired.json", "llama_factory_text.json", "openai.jsonl"] {
            let data = try Data(contentsOf: exports.appendingPathComponent(file))
            #expect(String(validating: data, as: UTF8.self) != nil, "\(file) is not UTF-8")
            for sha in forbidden { #expect(!ByteScan.contains(data, Data(sha.utf8)), "\(file) names \(sha.prefix(12))") }
        }
        for image in ByteScan.dataURLImages(try Data(contentsOf: exports.appendingPathComponent("openai.jsonl"))) {
            #expect(!forbidden.contains(ContentHash.sha256Hex(image)))
        }

        // The index counts the exclusions and records the stored split, not the recipe's defaults.
        let index = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: built.shards.appendingPathComponent("shards.json"))) as? [String: Any])
        #expect(index["excluded_test_images"] as? Int == t.kept.intersection(t.testImages).count)
        #expect(index["excluded_near_duplicates_of_test"] as? Int == t.nearTest.count)
        let split = try #require(index["split"] as? [String: Any])
        let stored = try #require(t.storedSplit)
        #expect(split["split_by"] as? String == stored.design.rawValue)
        #expect(split["seed"] as? Int == 7 && stored.seed == 7)
        #expect(split["settings_hash"] as? String == stored.hash)
    }

    // MARK: (b) text-only records

    @Test func textShardsCarryNoTypeOneAndNoImageReferringQuestion() throws {
        let built = try Self.built.get()
        let t = try Self.truth(built)
        try #require(!t.type1IDs.isEmpty)
        #expect(!t.type2TrainImageRefIDs.isEmpty, "the fake wrote no image-referring Type 2 stem that mcq accepted into train")
        #expect(!t.type2TrainOptionRefIDs.isEmpty, "the fake wrote no Type 2 question whose option alone points at the image")
        let records = try Self.textRecords(built.shards)
        let ids = Set(records.map { $0["id"] as? String ?? "" })
        for id in t.type1IDs { #expect(!ids.contains("t-" + ShardSampleBuilder.shortHash(["qa", id])), "Type 1 \(id) in text shards") }
        for id in t.type2TrainImageRefIDs { #expect(!ids.contains("t-" + ShardSampleBuilder.shortHash(["qa", id])), "image-referring \(id) in text shards") }
        for r in records where r["kind"] as? String == "qa" {
            let user = ((r["messages"] as? [[String: String]])?.first?["content"]) ?? ""
            #expect(!ImageReference.refersToImage(user), "\(r["id"] ?? ""): \(user.prefix(80))")
            #expect(!user.lowercased().contains("this image"))
        }
        // Text-only questions that need no image still train text-only.
        let plainInText = t.type2TrainPlainIDs.filter { ids.contains("t-" + ShardSampleBuilder.shortHash(["qa", $0])) }
        #expect(!plainInText.isEmpty, "plain \(t.type2TrainPlainIDs.count), image \(t.type2TrainImageRefIDs.count), option \(t.type2TrainOptionRefIDs.count)")
        // The image-referring ones train where the image is: in paired samples, when linked to a train image.
        let pairedKeys = Set(try Self.sampleJSONs(built.shards).compactMap { $0["key"] as? String })
        for id in t.type2TrainImageRefIDs {
            guard let sha = t.questionImage[id], !sha.isEmpty, t.kept.contains(sha), !t.testImages.contains(sha), !t.nearTest.contains(sha) else { continue }
            #expect(pairedKeys.contains("p-" + ShardSampleBuilder.shortHash(["qa", id])), "image-referring \(id) with a train image is in no paired sample")
        }
    }

    @Test(arguments: [
        ("What is the name of the food in this image?", true), ("Which dish is shown?", true), ("What is pictured here?", true),
        ("In the photo, what colour is the lid?", true), ("Which part of the picture is the brim?", true),
        ("Which material is traditionally used for the brim of a gat?", false), ("When is songpyeon eaten?", false),
        ("What does the photocopier show?", false),  // whole words only
    ])
    func imageReferenceMatcherFindsStemsThatPointAtAnImage(stem: String, refers: Bool) {
        #expect(ImageReference.refersToImage(stem) == refers)
    }

    // MARK: (c)–(e) one format, upright, copies byte for byte

    @Test func hfDatasetsAndWebdatasetReadMixedSourcesAsOneUprightFormat() throws {
        let built = try Self.built.get()
        let t = try Self.truth(built)
        let samples = try Self.sampleJSONs(built.shards)
        let bySource = Dictionary(grouping: samples, by: { $0["image_sha256"] as? String ?? "" })
        for world in World.allCases {
            #expect(t.kept.contains(world.sha), "\(world.rawValue) was not kept")
            #expect(!t.testImages.contains(world.sha), "\(world.rawValue) became a test image; the fixture needs another seed")
            #expect(bySource[world.sha]?.isEmpty == false, "\(world.rawValue) is in no paired sample")
        }
        let index = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: built.shards.appendingPathComponent("shards.json"))) as? [String: Any])
        let images = try #require(index["images"] as? [String: Any])
        #expect(images["format"] as? String == "jpeg" && images["background"] as? String == "#ffffff")
        #expect((images["reencoded_for_format"] as? Int ?? 0) >= 2)  // the PNG and the WebP
        #expect((images["reencoded_for_orientation"] as? Int ?? 0) >= 2)
        #expect((images["copied"] as? Int ?? 0) >= 1)

        guard let seen = try Self.inspect() else { return }
        let wds = try #require(seen["webdataset"] as? [String: [String: Any]])
        #expect(wds.count == samples.count)
        #expect(Set(wds.values.compactMap { $0["ext"] as? String }) == ["jpg"])
        #expect(wds.values.allSatisfy { $0["format"] as? String == "JPEG" })
        let ds = try #require(seen["datasets"] as? [String: Any])
        #expect(ds["rows"] as? Int == samples.count)
        #expect(ds["image_columns"] as? [String] == ["jpg"])
        let hf = try #require(ds["samples"] as? [String: [String: Any]])
        for (key, sample) in wds {
            let meta = try #require(sample["json"] as? [String: Any])
            let source = meta["image_sha256"] as? String ?? ""
            let stored = try #require(t.stored[source])
            // (d) upright everywhere: no orientation tag left, the decoded size is the upright size.
            #expect([nil, 1].contains(sample["exif_orientation"] as? Int), "\(key) keeps EXIF orientation \(sample["exif_orientation"] ?? "")")
            #expect(sample["width"] as? Int == stored.width && sample["height"] as? Int == stored.height, "\(key) decoded sideways")
            #expect(meta["written_sha256"] as? String == sample["sha256"] as? String)
            #expect(meta["exif_orientation"] as? Int == stored.orientation)
            #expect(meta["orientation_applied"] as? Bool == (stored.orientation != 1))
            #expect(hf[key]?["width"] as? Int == stored.width && hf[key]?["height"] as? Int == stored.height)
            // (e) --resize none: an upright JPEG is the stored file byte for byte; anything else was re-encoded.
            let reencoded = meta["reencoded"] as? [String] ?? []
            if stored.orientation == 1 && ["jpeg", "jpg"].contains(stored.format) {
                #expect(reencoded.isEmpty && sample["sha256"] as? String == source, "\(key) was re-encoded without cause")
            } else {
                #expect(!reencoded.isEmpty && sample["sha256"] as? String != source)
            }
            switch source {
            case World.rotated6.sha, World.rotated8.sha:
                #expect(stored.width < stored.height)  // upright portrait (the stored pixels are landscape)
                for reader in [sample, hf[key] ?? [:]] {
                    #expect((reader["top"] as? Double ?? 255) < 100 && (reader["bottom"] as? Double ?? 0) > 150, "\(key) is not upright: \(reader)")
                }
            case World.pngAlpha.sha:
                // Alpha flattened onto white: the transparent top half is white, not black.
                #expect((sample["top"] as? Double ?? 0) > 240 && (sample["bottom"] as? Double ?? 255) < 100)
                #expect(reencoded == ["format"])
            case World.grey.sha:
                #expect(sample["mode"] as? String == "L" && reencoded.isEmpty)
            case World.webp.sha:
                #expect(reencoded == ["format"])
            default: break
            }
        }
        // The stored rotated sources really are sideways (so the check above is not vacuous).
        let rotated = Self.rotatedSources(built, t)
        let raw = try #require(try Self.inspect(files: rotated))
        #expect(raw.count == rotated.count)
        #expect(raw.values.allSatisfy { [6, 8].contains($0["exif_orientation"] as? Int ?? 0) && ($0["width"] as? Int ?? 0) > ($0["height"] as? Int ?? 0) })
    }

    @Test func exportsCarryUprightImagesInTheDatasetFormat() throws {
        let built = try Self.built.get()
        let t = try Self.truth(built)
        let exports = built.shards.appendingPathComponent("exports")
        let (files, n) = try Self.exportImageFiles(built)
        #expect(n > 0)
        #expect(files.allSatisfy { $0.lastPathComponent.hasSuffix(".jpg") || $0.pathExtension == "img" })
        // The test images go to mcq_test/images/, the training images to images/, never the other way round.
        let mcqImages = try FileManager.default.contentsOfDirectory(atPath: exports.appendingPathComponent("mcq_test/images").path)
        #expect(!mcqImages.isEmpty && mcqImages.allSatisfy { t.testImages.contains(String($0.prefix(64))) })
        guard let seen = try Self.inspect(files: files) else { return }
        #expect(seen.count == files.count)
        for (path, image) in seen {
            #expect(image["format"] as? String == "JPEG", "\(path)")
            #expect([nil, 1].contains(image["exif_orientation"] as? Int), "\(path) keeps an EXIF orientation")
            let name = URL(fileURLWithPath: path).lastPathComponent
            if name.count > 64, let stored = t.stored[String(name.prefix(64))] {
                #expect(image["width"] as? Int == stored.width && image["height"] as? Int == stored.height, "\(name) sideways")
            }
        }
        // The rotated sources, in the path-based exports, upright.
        for world in [World.rotated6, World.rotated8] {
            let image = try #require(seen[exports.appendingPathComponent("images/\(world.sha).jpg").path])
            #expect((image["top"] as? Double ?? 255) < 100 && (image["bottom"] as? Double ?? 0) > 150)
        }
    }

    // MARK: (f) requests to the model

    @Test func everyImageSentToTheModelIsUprightAndWithinTheSideLimit() throws {
        let built = try Self.built.get()
        let files = try Self.requestImageFiles(built)
        try #require(files.count > 10)
        guard let seen = try Self.inspect(files: files) else { return }
        #expect(seen.count == files.count)
        for (path, image) in seen {
            #expect([nil, 1].contains(image["exif_orientation"] as? Int), "\(path) sent with EXIF orientation \(image["exif_orientation"] ?? "")")
            #expect(max(image["width"] as? Int ?? 0, image["height"] as? Int ?? 0) <= 256)
        }
        // Rotated-6 is small (64×128 upright, sent without scaling); rotated-8 is 320×640 upright, sent at 128×256.
        let small = seen.values.filter { $0["width"] as? Int == 64 && $0["height"] as? Int == 128 }
        let large = seen.values.filter { $0["width"] as? Int == 128 && $0["height"] as? Int == 256 }
        #expect(!small.isEmpty && !large.isEmpty)
        for image in small + large {
            #expect((image["top"] as? Double ?? 255) < 100 && (image["bottom"] as? Double ?? 0) > 150, "sent sideways or upside down: \(image)")
        }
        #expect(!seen.values.contains { $0["width"] as? Int == 128 && $0["height"] as? Int == 64 })
    }

    // MARK: (e) png datasets, and determinism

    @Test func pngDatasetUsesOneExtensionAndRerunsGiveIdenticalBytes() throws {
        let built = try Self.built.get()
        let cli = CommandRunner()
        let outA = built.tmp.path("png-a"), outB = built.tmp.path("png-b")
        for out in [outA, outB] {
            let r = try cli.run(["shards", "--workspace", built.workspace.path, "--out", out.path, "--image-format", "png",
                                 "--background", "#000000", "--shard-size", "16", "--json", "--quiet"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let a = try RunFiles.all(outA), b = try RunFiles.all(outB)
        #expect(!a.isEmpty && a == b)
        var extensions = Set<String>()
        for entry in try ShardIndex.load(outA).paired {
            for member in try TarReading.members(try Data(contentsOf: outA.appendingPathComponent(entry.file))) {
                extensions.insert((member.name as NSString).pathExtension)
            }
        }
        #expect(extensions == ["png", "json", "txt"])
        let index = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: outA.appendingPathComponent("shards.json"))) as? [String: Any])
        let images = try #require(index["images"] as? [String: Any])
        #expect(images["format"] as? String == "png" && images["background"] as? String == "#000000")
        #expect(images["copied"] as? Int == 1)  // only the PNG source is already a PNG (and upright)
        let bad = try cli.run(["shards", "--workspace", built.workspace.path, "--out", outA.path, "--image-format", "gif"])
        #expect(bad.status != 0 && bad.stderr.contains("--image-format"))
        // A rerun of the default shards changes no byte.
        let before = try RunFiles.all(built.shards)
        let again = try cli.run(["shards", "--workspace", built.workspace.path, "--export", "llava", "--export", "llama-factory",
                                 "--export", "openai", "--export", "mcq", "--json", "--quiet"])
        #expect(again.status == 0)
        #expect((try again.json())["written"] as? Int == 0)
        #expect(try RunFiles.all(built.shards) == before)
    }

    // MARK: Helpers

}
