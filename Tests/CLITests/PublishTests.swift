import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

/// `dsbuild publish` end to end: one workspace built through the commands (`init → collect → filter → describe → mcq
/// → shards`) on real K-Viscuit images from a photo folder with attribution sidecars — CC BY photos, and images as
/// the world sends them: EXIF-rotated JPEGs, a PNG with alpha, a greyscale JPEG (CC0), one CC BY-NC, one CC BY-ND and
/// one without any licence — with the loopback chat fake as describer and question writer. The release folders are
/// read by the real readers from the interop venv (`datasets` 4.4.1, `mlcroissant` 1.1.1) and checked against the
/// manifest and the shards.
///
/// Opt-in like the other tests that drive the trainer's environment: `DSBUILD_TRAINER_PYTHON` names the Python with
/// pyarrow that writes the parquet files.
@Suite("publish", .serialized, .enabled(if: ProcessInfo.processInfo.environment["DSBUILD_TRAINER_PYTHON"] != nil))
struct PublishTests {
    /// The photo folder, keyword CSV and recipe of the workspace.
    struct Inputs {
        let tmp = TemporaryDirectory("dsbuild-publish")
        var photos: URL { tmp.path("photos") }
        var recipe: URL { tmp.path("recipe.yaml") }
        var workspace: URL { tmp.path("ws") }
        var keywords: [String] = []
        /// Stored hash of the images with a licence of interest.
        var nonCommercial = "", noDerivatives = "", unlicensed = "", ccBy: Set<String> = []
        /// The rotated images: stored hash → upright (width, height).
        var rotated: [String: (Int, Int)] = [:]

        init() throws {
            let items = try KViscuitFixture.type1Items().filter {
                !$0.keyword.contains("/") && FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
            }
            var seenKeyword = Set<String>(), seenImage = Set<String>()
            let chosen = Array(items.filter { seenKeyword.insert($0.keyword).inserted }.prefix(9))
            let chosenImages = Set(chosen.map(\.imagePath))
            var spare = items.filter { !chosenImages.contains($0.imagePath) && seenImage.insert($0.imagePath).inserted }.makeIterator()
            let folder = try PhotoFolder(root: photos)
            var csv = "keyword,category\r\n"
            func data(_ item: KViscuitFixture.Item) throws -> Data { try Data(contentsOf: TestPaths.kViscuitImages.appendingPathComponent(item.imagePath)) }
            for (i, item) in chosen.enumerated() {
                keywords.append(item.keyword)
                csv += "\"\(item.keyword.replacingOccurrences(of: "\"", with: "\"\""))\",\(item.category.lowercased())\r\n"
                switch i {
                case 0, 1, 2:
                    // Three CC BY photos each, and one world image (CC0): more than one image, so some are held out.
                    for next in [item, spare.next(), spare.next()].compactMap({ $0 }) {
                        try folder.add(next, keyword: item.keyword)
                        ccBy.insert(ContentHash.sha256Hex(try data(next)))
                    }
                    let world = [WorldImage.pngAlpha, .grey, .webp][i]
                    try folder.add(world.data, named: world.rawValue, keyword: item.keyword, attribution: .madeByTest(world.rawValue))
                case 3:
                    // The only image of its keyword (so it trains): CC BY-NC.
                    var attribution = PhotoFolder.Attribution.kViscuit(item)
                    attribution.license = "CC BY-NC 4.0"
                    try folder.add(try data(item), named: item.imagePath, keyword: item.keyword, attribution: attribution)
                    nonCommercial = ContentHash.sha256Hex(try data(item))
                case 4:
                    var attribution = PhotoFolder.Attribution.kViscuit(item)
                    attribution.license = "CC BY-ND 4.0"
                    try folder.add(try data(item), named: item.imagePath, keyword: item.keyword, attribution: attribution)
                    noDerivatives = ContentHash.sha256Hex(try data(item))
                case 5:
                    // No sidecar: no licence is known.
                    try folder.add(try data(item), named: item.imagePath, keyword: item.keyword, attribution: nil)
                    unlicensed = ContentHash.sha256Hex(try data(item))
                case 6:
                    try folder.add(WorldImage.rotated6.data, named: WorldImage.rotated6.rawValue, keyword: item.keyword,
                                   attribution: .madeByTest(WorldImage.rotated6.rawValue))
                    rotated[WorldImage.rotated6.sha] = (64, 128)
                case 7:
                    try folder.add(WorldImage.rotated8.data, named: WorldImage.rotated8.rawValue, keyword: item.keyword,
                                   attribution: .madeByTest(WorldImage.rotated8.rawValue))
                    rotated[WorldImage.rotated8.sha] = (320, 640)
                default:
                    try folder.add(item, keyword: item.keyword)
                    ccBy.insert(ContentHash.sha256Hex(try data(item)))
                }
            }
            try csv.write(to: tmp.path("keywords.csv"), atomically: true, encoding: .utf8)
            try """
                name: publish-e2e
                keywords: keywords.csv
                contact: https://example.org/dsbuild-tests
                llm:
                  model: fake-model
                  concurrency: 4
                  image_max_side: 256
                collect:
                  per_keyword: 10
                  licenses: any
                  sources:
                    directory:
                      path: \(photos.path)
                filter:
                  min_short_side: 32
                  aspect_ratio: [0.3, 3.0]
                describe:
                  aspects: [visual]
                  modes: [text-only, image-grounded]
                  languages: [en]
                  concurrency: 4
                mcq:
                  types: [1, 2]
                  per_keyword: 2
                  split_by: image
                  test_fraction: 0.3
                  seed: 7
                  concurrency: 4
                shards:
                  out: shards
                  shard_size: 16
                publish:
                  pretty_name: K-Viscuit sample (dsbuild publish test)

                """.write(to: recipe, atomically: true, encoding: .utf8)
        }
    }

    /// What the manifest and the shards say the release must hold.
    struct Truth {
        var testImages: Set<String> = []
        /// Accepted train questions by image hash.
        var trainQuestions: [String: Int] = [:]
        var testQuestions: [(id: String, sha: String)] = []
        /// Paired samples of the shards, by image hash; text records of the shards.
        var pairedByImage: [String: Int] = [:]
        /// Paired sample key → image hash.
        var pairedKeys: [String: String] = [:]
        var keptPairs: Set<String> = []
        var textRecords = 0
    }

    /// What `check_publish.py` saw.
    struct Seen {
        let object: [String: Any]
        var hf: [String: Any] { object["hf"] as? [String: Any] ?? [:] }
        var croissant: [String: Any] { object["croissant"] as? [String: Any] ?? [:] }
        func split(_ config: String, _ split: String) -> [String: Any] {
            ((hf["configs"] as? [String: Any])?[config] as? [String: Any])?[split] as? [String: Any] ?? [:]
        }
        func items(_ config: String, _ split: String) -> [[String: Any]] { self.split(config, split)["items"] as? [[String: Any]] ?? [] }
        func rows(_ config: String, _ split: String) -> Int { self.split(config, split)["rows"] as? Int ?? -1 }
        func records(_ set: String) -> Int { ((croissant["record_sets"] as? [String: Any])?[set] as? [String: Any])?["records"] as? Int ?? -1 }
    }

    static func read(_ folder: URL) throws -> Seen? {
        let python: URL
        switch InteropVenv.python {
        case .success(let url): python = url
        case .failure(let failure):
            if !InteropVenv.mayBeMissing { Issue.record("the interop venv is required (DSBUILD_ALLOW_NO_INTEROP=1 skips): \(failure.message)") }
            return nil
        }
        let process = Process()
        process.executableURL = python
        process.arguments = [TestPaths.repositoryRoot.appendingPathComponent("scripts/interop/check_publish.py").path, folder.path]
        var environment = ProcessInfo.processInfo.environment
        environment["HF_DATASETS_OFFLINE"] = "1"
        environment["HF_HUB_OFFLINE"] = "1"
        let cache = folder.deletingLastPathComponent().appendingPathComponent("hf-cache-\(folder.lastPathComponent)")
        environment["HF_HOME"] = cache.path
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: cache)
        guard process.terminationStatus == 0, let object = try JSONSerialization.jsonObject(with: outData) as? [String: Any] else {
            Issue.record("check_publish.py failed on \(folder.lastPathComponent): \(String(decoding: errData, as: UTF8.self).suffix(3000))")
            return nil
        }
        return Seen(object: object)
    }

    static func csvRows(_ url: URL) throws -> [[String: String]] {
        let text = try String(contentsOf: url, encoding: .utf8)
        var rows: [[String]] = []
        var field = "", row: [String] = [], quoted = false
        var chars = Array(text).makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if quoted {
                if c == "\"" {
                    if let n = chars.next() { if n == "\"" { field.append("\"") } else { quoted = false; pending = n } } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" { quoted = true
            } else if c == "," { row.append(field); field = ""
            } else if c == "\r\n" || c == "\n" { row.append(field); rows.append(row); row = []; field = ""
            } else { field.append(c) }
        }
        guard let header = rows.first else { return [] }
        return rows.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    @Test func releaseLoadsInTheRealReadersCreditsEveryImageAndRepublishesIdentically() throws {
        let inputs = try Inputs()
        let chat = FakeChatEndpoint(responder: PipelineChatResponder.respondAsAModel)
        let server = try chat.serve()
        defer { server.stop() }
        let cli = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-publish-0123456789"])
        let python = ProcessInfo.processInfo.environment["DSBUILD_TRAINER_PYTHON"]!
        @discardableResult
        func run(_ arguments: [String], workspace: Bool = true, expect status: Int32 = 0) throws -> CommandRunner.Result {
            let result = try cli.run(arguments + (workspace ? ["--workspace", inputs.workspace.path] : []))
            #expect(result.status == status, "dsbuild \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr.suffix(3000))")
            return result
        }
        func publish(_ out: String, _ extra: [String] = []) throws -> [String: Any] {
            let result = try run(["publish", "--out", inputs.tmp.path(out).path, "--python", python, "--json"] + extra)
            return (try? result.json()) ?? [:]
        }

        defer {
            // DSBUILD_KEEP_E2E=DIR keeps the workspace and the release folders for a look.
            if let keep = ProcessInfo.processInfo.environment["DSBUILD_KEEP_E2E"] {
                try? FileManager.default.removeItem(atPath: keep)
                try? FileManager.default.copyItem(at: inputs.tmp.url, to: URL(fileURLWithPath: keep))
            }
        }
        try run(["init", inputs.workspace.path, "--recipe", inputs.recipe.path, "--quiet"], workspace: false)
        for command in ["collect", "filter", "describe", "mcq", "shards"] { try run([command, "--quiet"]) }

        // The truth: the manifest's split and questions, the shards' samples.
        var t = Truth()
        try Workspace.open(at: inputs.workspace).manifest.read { db in
            t.testImages = Set(try String.fetchAll(db, sql: "SELECT image_sha256 FROM splits WHERE split = 'test' AND image_sha256 != ''"))
            for row in try Row.fetchAll(db, sql: "SELECT image_sha256, COUNT(*) FROM questions WHERE status = 'accepted' AND split = 'train' GROUP BY 1") {
                t.trainQuestions[row[0] as String] = row[1] as Int
            }
            t.testQuestions = try Row.fetchAll(db, sql: "SELECT id, image_sha256 FROM questions WHERE status = 'accepted' AND split = 'test' ORDER BY id")
                .map { ($0[0], $0[1]) }
            t.keptPairs = Set(try KeptPairs.all(in: db).map { "\($0.keywordID)/\($0.sha256)" })
        }
        for (path, data) in try RunFiles.all(inputs.workspace.appendingPathComponent("shards")) {
            if path.hasPrefix("paired/") && path.hasSuffix(".tar") {
                for member in try TarReading.members(data) where member.name.hasSuffix(".json") {
                    let sample = try #require(try JSONSerialization.jsonObject(with: member.data) as? [String: Any])
                    t.pairedByImage[sample["image_sha256"] as? String ?? "", default: 0] += 1
                    t.pairedKeys[sample["key"] as? String ?? ""] = sample["image_sha256"] as? String ?? ""
                }
            } else if path.hasPrefix("text/") && path.hasSuffix(".jsonl") {
                t.textRecords += String(decoding: data, as: UTF8.self).split(separator: "\n").count
            }
        }
        #expect(!t.testImages.isEmpty && !t.trainQuestions.isEmpty && !t.testQuestions.isEmpty && t.textRecords > 0)
        for sha in [inputs.nonCommercial, inputs.noDerivatives, inputs.unlicensed] + Array(inputs.rotated.keys) {
            #expect((t.pairedByImage[sha] ?? 0) > 0, "image \(sha.prefix(12)) trains in no shard sample; the checks on it would be vacuous")
        }

        // A release for non-commercial use, images as stored: only the image without a licence is left out.
        let a = try publish("pubA")
        #expect(a["images_left_out"] as? Int == 1, "\(a)")
        #expect(a["license"] as? String == "other", "CC BY, CC0, NC and ND images: a licence table, not one id")
        let pubA = inputs.tmp.path("pubA")
        let seenA = try #require(try Self.read(pubA))
        let leftOutA: Set<String> = [inputs.unlicensed]
        let expectedPaired = t.pairedByImage.filter { !leftOutA.contains($0.key) }.values.reduce(0, +)
        let testQuestionsA = t.testQuestions.filter { !leftOutA.contains($0.sha) }.count
        let trainQuestionsA = t.trainQuestions.filter { !leftOutA.contains($0.key) }.values.reduce(0, +)

        // Every config loads with exactly the rows the manifest implies; the default config is paired, not MCQ test.
        #expect(Set(seenA.hf["config_names"] as? [String] ?? []) == ["paired", "text", "mcq"])
        #expect(seenA.rows("paired", "train") == expectedPaired)
        #expect(Set(seenA.items("paired", "train").compactMap { $0["key"] as? String }) == Set(t.pairedKeys.filter { !leftOutA.contains($0.value) }.keys),
                "the paired rows are the shards' samples of the published images")
        // Texts written from the left-out image (its image-grounded descriptions, questions on it) leave with it.
        let textsLeftOutA = a["texts_left_out"] as? Int ?? -1
        #expect(textsLeftOutA > 0 && seenA.rows("text", "train") == t.textRecords - textsLeftOutA, "\(a)")
        #expect(seenA.rows("mcq", "train") == trainQuestionsA)
        #expect(seenA.rows("mcq", "test") == testQuestionsA)
        let defaultSplits = seenA.hf["default"] as? [String: [String: Any]] ?? [:]
        #expect(Array(defaultSplits.keys) == ["train"] && defaultSplits["train"]?["rows"] as? Int == expectedPaired,
                "load_dataset(DIR) must give the paired config: \(defaultSplits)")
        #expect(seenA.split("paired", "train")["columns"] as? [String] ?? [] == ["key", "kind", "keyword", "category", "aspect", "language", "text",
                                                                                "messages", "image", "image_sha256", "author", "license", "source_page"])
        #expect((seenA.split("paired", "train")["features"] as? [String: String])?["image"] == "Image")
        #expect(seenA.split("paired", "train")["decoded_images"] as? Int == expectedPaired, "every paired image decodes as a PIL image")
        #expect(seenA.split("text", "train")["columns"] as? [String] ?? [] == ["id", "kind", "keyword", "category", "aspect", "language", "text", "messages"])
        for split in ["train", "test"] {
            #expect(seenA.split("mcq", split)["columns"] as? [String] ?? [] == ["id", "type", "keyword", "category", "aspect", "question", "options",
                                                                              "answer", "answer_index", "image", "image_sha256"])
            #expect((seenA.split("mcq", split)["features"] as? [String: String])?["image"] == "Image")
            #expect(seenA.split("mcq", split)["decoded_images"] as? Int == seenA.rows("mcq", split), "mcq \(split): every question's image decodes")
        }
        #expect(seenA.items("mcq", "train").allSatisfy { ["A", "B", "C", "D", "E", "F"].contains($0["answer"] as? String ?? "") }, "answers are letters")
        #expect(Set(seenA.items("mcq", "train").compactMap { $0["type"] as? Int }) == [1, 2], "Type 1 and Type 2 questions train, each with its image")

        // No test image (by stored hash or by the bytes) in a training config; the test questions carry theirs.
        for (config, split) in [("paired", "train"), ("mcq", "train")] {
            for item in seenA.items(config, split) {
                let sha = item["image_sha256"] as? String ?? ""
                #expect(!t.testImages.contains(sha), "\(config)/\(split) carries test image \(sha.prefix(12))")
                if let image = item["image"] as? [String: Any] {
                    #expect(!t.testImages.contains(image["sha256"] as? String ?? ""), "\(config)/\(split) embeds a test image's bytes")
                }
            }
        }
        for item in seenA.items("mcq", "test") {
            #expect(t.testImages.contains(item["image_sha256"] as? String ?? ""), "a test question on a non-test image")
            #expect(item["image"] != nil, "test question \(item["id"] ?? "") has no image")
        }
        // Upright: the EXIF-rotated inputs come out with their upright size and no orientation tag.
        for (sha, size) in inputs.rotated {
            let rows = seenA.items("paired", "train").filter { $0["image_sha256"] as? String == sha }
            #expect(!rows.isEmpty, "rotated image \(sha.prefix(12)) not published")
            for row in rows {
                let image = row["image"] as? [String: Any] ?? [:]
                #expect(image["width"] as? Int == size.0 && image["height"] as? Int == size.1, "rotated image came out \(image)")
                #expect([nil, 1].contains(image["orientation"] as? Int), "orientation tag left: \(image)")
            }
        }
        #expect(seenA.items("paired", "train").allSatisfy { ($0["image"] as? [String: Any])?["format"] as? String == "JPEG" }, "one image format")
        #expect(!seenA.items("paired", "train").contains { $0["image_sha256"] as? String == inputs.unlicensed })

        // Croissant: mlcroissant validated it (or the reader failed above) and its records are the rows.
        for (set, rows) in [("paired-train", expectedPaired), ("text-train", t.textRecords - textsLeftOutA), ("mcq-train", trainQuestionsA), ("mcq-test", testQuestionsA)] {
            #expect(seenA.records(set) == rows, "croissant record set \(set)")
        }
        let croissantFiles = seenA.croissant["files"] as? [[String: Any]] ?? []
        for file in croissantFiles {
            let path = file["content_url"] as? String ?? ""
            let data = try Data(contentsOf: pubA.appendingPathComponent(path))
            #expect(file["sha256"] as? String == ContentHash.sha256Hex(data), "croissant sha256 of \(path)")
        }
        #expect(croissantFiles.contains { ($0["content_url"] as? String ?? "").hasSuffix(".parquet") })

        // Attribution: every published image credited; the CC BY ones with author, licence and its deed, source page.
        let credits = try Self.csvRows(pubA.appendingPathComponent("ATTRIBUTION.csv"))
        let published = Set(seenA.items("paired", "train").compactMap { $0["image_sha256"] as? String }
                            + seenA.items("mcq", "test").compactMap { $0["image_sha256"] as? String })
        #expect(Set(credits.map { $0["image_sha256"] ?? "" }) == published)
        for row in credits where inputs.ccBy.contains(row["image_sha256"] ?? "") {
            #expect(row["author"] == "K-Viscuit (Baek et al.)" && row["license"] == "cc-by", "\(row)")
            // The sidecars say `CC BY 4.0`: collect keeps the spelling (`license_raw`), so the 4.0 deed is credited.
            #expect(row["license_url"] == "https://creativecommons.org/licenses/by/4.0/", "\(row)")
            #expect(row["source_page"]?.hasPrefix("https://commons.wikimedia.org/wiki/File:") == true, "\(row)")
            #expect(row["modifications"]?.hasPrefix("none") == true, "a JPEG copied as stored was not modified: \(row)")
        }
        let rotatedCredit = try #require(credits.first { $0["image_sha256"] == WorldImage.rotated6.sha })
        #expect(rotatedCredit["modifications"]?.contains("rotated upright (EXIF orientation 6)") == true, "\(rotatedCredit)")
        let excludedA = try Self.csvRows(pubA.appendingPathComponent("ATTRIBUTION_EXCLUDED.csv"))
        #expect(excludedA.map { $0["image_sha256"] } == [inputs.unlicensed])
        #expect(excludedA.first?["reason"]?.contains("no licence") == true)
        let attributionMD = try String(contentsOf: pubA.appendingPathComponent("ATTRIBUTION.md"), encoding: .utf8)
        #expect(attributionMD.contains("## Left out") && attributionMD.contains(String(inputs.unlicensed.prefix(12))))

        // The card: configs, licence table, sections generated from the manifest.
        let card = try String(contentsOf: pubA.appendingPathComponent("README.md"), encoding: .utf8)
        for needle in ["license: other", "pretty_name: \"K-Viscuit sample (dsbuild publish test)\"", "- config_name: paired\n  default: true",
                       "path: mcq/test-*.parquet", "size_categories:", "## Funnel", "## Split design", "## Filter rules", "min_short_side",
                       "fake-model", "## Citation", "| CC BY 4.0 |"] {
            #expect(card.contains(needle), "the card lacks \(needle)")
        }

        // A commercial, resized release: NC and ND (a resize adapts it) left out with the reason, CC BY credited as resized.
        let b = try publish("pubB", ["--commercial", "--resize", "keep_ratio", "--image-size", "128"])
        #expect(b["images_left_out"] as? Int == 3, "\(b)")
        let pubB = inputs.tmp.path("pubB")
        let excludedB = try Self.csvRows(pubB.appendingPathComponent("ATTRIBUTION_EXCLUDED.csv"))
        let reasons = Dictionary(uniqueKeysWithValues: excludedB.map { ($0["image_sha256"] ?? "", $0["reason"] ?? "") })
        #expect(reasons[inputs.nonCommercial]?.contains("forbids commercial use") == true, "\(reasons)")
        #expect(reasons[inputs.noDerivatives]?.contains("forbids adaptations") == true, "\(reasons)")
        #expect(reasons[inputs.unlicensed] != nil)
        let creditsB = try Self.csvRows(pubB.appendingPathComponent("ATTRIBUTION.csv"))
        #expect(!creditsB.contains { [inputs.nonCommercial, inputs.noDerivatives].contains($0["image_sha256"] ?? "") })
        let resized = try #require(creditsB.first { inputs.ccBy.contains($0["image_sha256"] ?? "") })
        #expect(resized["modifications"]?.contains("resized from") == true && resized["author"] == "K-Viscuit (Baek et al.)", "\(resized)")
        let seenB = try #require(try Self.read(pubB))
        let leftOutB: Set<String> = [inputs.nonCommercial, inputs.noDerivatives, inputs.unlicensed]
        #expect(seenB.rows("paired", "train") == t.pairedByImage.filter { !leftOutB.contains($0.key) }.values.reduce(0, +))
        for item in seenB.items("paired", "train") {
            #expect(!leftOutB.contains(item["image_sha256"] as? String ?? ""))
            let image = item["image"] as? [String: Any] ?? [:]
            #expect(max(image["width"] as? Int ?? 999, image["height"] as? Int ?? 999) <= 128, "not resized: \(image)")
        }

        // per_image: one row per (image, keyword), with all its texts.
        _ = try publish("pubC", ["--layout", "per_image"])
        let seenC = try #require(try Self.read(inputs.tmp.path("pubC")))
        let imagesC = seenC.items("paired", "train").compactMap { $0["image_sha256"] as? String }
        #expect(imagesC.count == Set(imagesC).count, "an image in two rows")
        #expect(seenC.split("paired", "train")["columns"] as? [String] ?? [] == ["image_sha256", "image", "keyword", "category", "caption", "descriptions",
                                                                                "questions", "author", "license", "source_page"])
        #expect(Set(imagesC) == Set(t.pairedByImage.keys).subtracting(leftOutA))
        // Every text of the per-sample release is in its image's row: descriptions and questions, counted.
        func total(_ field: String) -> Int { seenC.items("paired", "train").reduce(0) { $0 + ($1[field] as? Int ?? 0) } }
        let kinds = Dictionary(grouping: seenA.items("paired", "train"), by: { $0["kind"] as? String ?? "" }).mapValues(\.count)
        #expect((kinds["description"] ?? 0) > 0 && total("descriptions_count") == kinds["description"], "\(kinds)")
        #expect((kinds["qa"] ?? 0) > 0 && total("questions_count") == kinds["qa"], "\(kinds)")
        #expect(seenC.rows("mcq", "test") == testQuestionsA && seenC.records("paired-train") == imagesC.count)

        // Re-publish: the user's edit of the card survives, a generated region is written anew, every other byte is the same.
        let before = try RunFiles.all(pubA).filter { !$0.key.hasPrefix(".") }.mapValues { ContentHash.sha256Hex($0) }
        let note = "\n## Our notes\n\nCurated by the test suite — 한국 문화.\n"
        var edited = card.replacingOccurrences(of: "## About this dataset\n", with: "## About this dataset\n" + note)
        edited = edited.replacingOccurrences(of: "## Funnel", with: "## Funnel (edited inside a region)")
        try edited.write(to: pubA.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        let again = try publish("pubA")
        #expect(again["parquet_written"] as? Int == 0, "a re-publish of the same manifest rewrote parquet: \(again)")
        let republished = try String(contentsOf: pubA.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(republished.contains(note), "the user's edit was lost")
        #expect(!republished.contains("(edited inside a region)"), "a generated region was not written anew")
        #expect(republished.replacingOccurrences(of: note, with: "") == card, "the card changed beyond the user's edit")
        let after = try RunFiles.all(pubA).filter { !$0.key.hasPrefix(".") }.mapValues { ContentHash.sha256Hex($0) }
        #expect(Set(after.keys) == Set(before.keys))
        for (path, sha) in before where path != "README.md" && path != "croissant.json" {
            #expect(after[path] == sha, "a re-publish changed \(path)")
        }
        // croissant.json lists the card's sha256, which the user's edit changed; with the edit undone it is identical too.
        try card.write(to: pubA.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        _ = try publish("pubA")
        let restored = try RunFiles.all(pubA).filter { !$0.key.hasPrefix(".") }.mapValues { ContentHash.sha256Hex($0) }
        #expect(restored == before, "a re-publish of the same manifest is not byte-identical")

        // Killed while rendering, then run again: the same bytes as the uninterrupted release (in another folder).
        let slow = CommandRunner(environment: ["DSBUILD_TEST_PUBLISH_DELAY_MS": "150"])
        let killedRun = try slow.start(["publish", "--workspace", inputs.workspace.path, "--out", inputs.tmp.path("pubF").path,
                                        "--python", python, "--quiet"])
        Thread.sleep(forTimeInterval: 1.2)
        killedRun.kill()
        #expect(killedRun.wait().signalled)
        #expect(!FileManager.default.fileExists(atPath: inputs.tmp.path("pubF/croissant.json").path), "the kill came too late to test a resume")
        _ = try publish("pubF")
        let resumed = try RunFiles.all(inputs.tmp.path("pubF")).filter { !$0.key.hasPrefix(".") }.mapValues { ContentHash.sha256Hex($0) }
        #expect(resumed == before, "a killed and resumed publish differs from an uninterrupted one")

        // Bad input: an image gone from the store is one line naming it and the cause; the rest is published; exit 1.
        let lost = try Workspace.open(at: inputs.workspace).manifest.read { db in
            try #require(try String.fetchOne(db, sql: "SELECT path FROM images WHERE sha256 = ?", arguments: [WorldImage.rotated6.sha]))
        }
        try FileManager.default.removeItem(at: inputs.workspace.appendingPathComponent(lost))
        let broken = try run(["publish", "--out", inputs.tmp.path("pubD").path, "--python", python, "--json"], expect: 1)
        let lines = broken.stderr.split(separator: "\n").filter { $0.contains(WorldImage.rotated6.sha.prefix(12)) }
        #expect(lines.count == 1 && lines.first?.contains("missing") == true, "\(broken.stderr.suffix(2000))")
        let d = (try? broken.json()) ?? [:]
        #expect(d["images_published"] as? Int == (a["images_published"] as? Int ?? 0) - 1, "\(d)")
        let creditsD = try Self.csvRows(inputs.tmp.path("pubD").appendingPathComponent("ATTRIBUTION.csv"))
        #expect(!creditsD.isEmpty && !creditsD.contains { $0["image_sha256"] == WorldImage.rotated6.sha })

        // The key never reaches the release folders.
        for folder in ["pubA", "pubB", "pubC", "pubD"] {
            for (path, data) in try RunFiles.all(inputs.tmp.path(folder)) where data.range(of: Data("sk-publish-0123456789".utf8)) != nil {
                Issue.record("\(folder)/\(path) holds the API key")
            }
        }
    }
}
