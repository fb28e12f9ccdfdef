import Dataset
import Foundation
import GRDB
import Imaging
import Testing
import _DSBuildTestSupport

/// Issue 17's embeddings, end to end through the commands, on real K-Viscuit photos with a tiny random CLIP built
/// locally. A random model's sense is meaningless, so the duplicates are made real: centre-cropped, resized and
/// re-encoded copies of photos, which the pHash does not match (their pHashes lie far apart) but the embedding does.
///
/// 1. Without embeddings: `init → collect → filter → describe → mcq`; then a new keyword's only photo is a copy of
///    a *test* image, and it is trained on (`collect → filter → describe → mcq → shards`); `check` passes — the pHash
///    side of the leak check cannot see it.
/// 2. The recipe gains `filter.embeddings` (a model, `clip_rank`, `semantic_duplicates`), and another new keyword
///    brings a photo with its own cropped copy. Before `embed`, `filter` holds every image undecided (a failure
///    naming `dsbuild embed`) and drops none. `embed` is killed midway and resumed: only the missing vectors are
///    computed. `check` now reports the leak in the shards written before; `filter` drops the copy as a semantic
///    duplicate; `shards` leaves the test image's copy out of training; `check` passes.
@Suite(.serialized, .enabled(if: TinyEmbeddingModel.python != nil))
struct EmbeddingExperimentTests {
    /// Landscape photos whose centre crops the tiny CLIP places at cosine ≥ 0.993 and whose pHashes it moves by
    /// 14 bits or more, while no two of them meet above 0.98: (keyword photo, second photo) per keyword.
    static let photos: [(String, String)] = [("6.jpg", "1.jpg"), ("9.jpg", "4.jpg"), ("13.jpg", "31.jpg"), ("17.jpg", "11.jpg"),
                                             ("19.jpg", "14.jpg"), ("29.jpg", "26.jpg"), ("5.jpg", "30.jpg")]
    /// The photo that arrives in phase 2 with its own cropped copy, under a keyword of its own.
    static let latePhoto = "21.jpg"
    /// Keywords in the end: seven, the test image's copy's, the late photo's; `clip_rank.k` lets every rank pass.
    static let keywordCount = 9
    static let threshold = 0.99

    struct Inputs {
        let tmp = TemporaryDirectory("dsbuild-embedding-e2e")
        var photos: URL { tmp.path("photos") }
        var workspace: URL { tmp.path("ws") }
        var keywords: [String] = []
        let folder: PhotoFolder

        init() throws {
            folder = try PhotoFolder(root: tmp.path("photos"))
            let items = try KViscuitFixture.type1Items()
            var csv = "keyword,category\n"
            for (first, second) in EmbeddingExperimentTests.photos {
                let item = try #require(items.first { $0.imagePath == first })
                let other = try #require(items.first { $0.imagePath == second })
                keywords.append(item.keyword)
                csv += "\"\(item.keyword)\",\(item.category.lowercased())\n"
                try folder.add(item, keyword: item.keyword)
                try folder.add(other, keyword: item.keyword)
            }
            try csv.write(to: tmp.path("keywords.csv"), atomically: true, encoding: .utf8)
            try recipe(embeddings: nil).write(to: tmp.path("plain.yaml"), atomically: true, encoding: .utf8)
            try recipe(embeddings: try TinyEmbeddingModel.folder("clip")).write(to: tmp.path("embeddings.yaml"), atomically: true, encoding: .utf8)
        }

        func recipe(embeddings model: URL?) -> String {
            let embeddings = model.map { """

                  embeddings:
                    model: \($0.path)
                    batch_size: 4
                  clip_rank:
                    enabled: true
                    k: \(EmbeddingExperimentTests.keywordCount)
                  semantic_duplicates:
                    enabled: true
                    threshold: \(EmbeddingExperimentTests.threshold)
                """ } ?? ""
            return """
                name: embeddings-e2e
                keywords: keywords.csv
                llm:
                  model: fake-model
                  concurrency: 4
                  image_max_side: 256
                collect:
                  sources:
                    directory:
                      path: \(photos.path)
                filter:
                  min_short_side: 32
                  aspect_ratio: [0.3, 3.0]\(embeddings)
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
                  out: shards
                  shard_size: 8

                """
        }

        /// A centre square of the photo, resized to 320 px and re-encoded: the same picture to the eye and to CLIP,
        /// another to a pHash. Filed under `keyword` (new to the workspace: collect searches a keyword once per source).
        func addCrop(of data: Data, keyword: String, named name: String) throws -> String {
            let crop = try ImageTransformer().transform(data, format: "jpeg", request: ImageTransformRequest(mode: .centerCrop, size: 320, quality: 90))
            try folder.add(crop.data, named: name, keyword: keyword, attribution: .madeByTest(name))
            return ContentHash.sha256Hex(crop.data)
        }

        /// A keyword file naming `keyword` (food), for `collect --keywords`.
        func keywordFile(_ keyword: String) throws -> URL {
            let file = tmp.path("\(keyword).csv")
            try "keyword,category\n\(keyword),food\n".write(to: file, atomically: true, encoding: .utf8)
            return file
        }
    }

    struct Session {
        let inputs: Inputs
        let cli: CommandRunner

        @discardableResult
        func run(_ arguments: [String], expect status: Int32 = 0, sourceLocation: SourceLocation = #_sourceLocation) throws -> CommandRunner.Result {
            let result = try cli.run(arguments + ["--workspace", inputs.workspace.path])
            #expect(result.status == status, "dsbuild \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr.suffix(3000))",
                    sourceLocation: sourceLocation)
            return result
        }

        func read<T>(_ body: (Database) throws -> T) throws -> T { try Workspace.open(at: inputs.workspace).manifest.read(body) }

        func keywordID(_ text: String) throws -> Int64 {
            try #require(try read { db in try Int64.fetchOne(db, sql: "SELECT id FROM keywords WHERE text = ?", arguments: [text]) })
        }

        /// The stored split of each image (`test` wins over `train`).
        func splits() throws -> [String: String] {
            try read { db in
                var out: [String: String] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT image_sha256, split FROM splits WHERE image_sha256 != ''") {
                    if out[row[0]] != "test" { out[row[0]] = row[1] }
                }
                return out
            }
        }

        func decisions(_ sha: String) throws -> [String: (pass: Int, reason: String)] {
            try read { db in
                var out: [String: (Int, String)] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT rule, pass, reason FROM filter_decisions WHERE image_sha256 = ?", arguments: [sha]) {
                    out[row["rule"]] = (row["pass"], row["reason"] ?? "")
                }
                return out
            }
        }

        /// The image hashes of the paired training samples in `shards/`.
        func pairedImages() throws -> Set<String> {
            var out: Set<String> = []
            for (path, data) in try RunFiles.all(inputs.workspace.appendingPathComponent("shards")) where path.hasSuffix(".tar") {
                for member in try TarReading.members(data) where member.name.hasSuffix(".json") {
                    if let sample = try JSONSerialization.jsonObject(with: member.data) as? [String: Any], let sha = sample["image_sha256"] as? String {
                        out.insert(sha)
                    }
                }
            }
            return out
        }
    }

    @Test func aSemanticDuplicateIsDroppedAndANearCopyOfATestImageLeavesTraining() throws {
        let inputs = try Inputs()
        let chat = FakeChatEndpoint(responder: PipelineChatResponder.respondAsAModel)
        let server = try chat.serve()
        defer { server.stop() }
        let python = try #require(TinyEmbeddingModel.python)
        let environment = ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-embed-0123456789",
                           "DSBUILD_TRAINER_PYTHON": python]
        let s = Session(inputs: inputs, cli: CommandRunner(environment: environment))

        // 1. Without embeddings.
        #expect(try s.cli.run(["init", inputs.workspace.path, "--recipe", inputs.tmp.path("plain.yaml").path, "--quiet"]).status == 0)
        for command in ["collect", "filter", "describe", "mcq"] { try s.run([command, "--quiet"]) }
        let split = try s.splits()
        #expect(split.values.filter { $0 == "test" }.count == inputs.keywords.count, "one test image per keyword: \(split)")
        // A test image of the first keyword turns up, cropped, as the only photo of a new keyword.
        let ws = try Workspace.open(at: inputs.workspace)
        let testImage = try #require(try s.read { db in
            try String.fetchOne(db, sql: "SELECT image_sha256 FROM splits WHERE keyword_id = ? AND split = 'test' AND image_sha256 != ''",
                                arguments: [try s.keywordID(inputs.keywords[0])])
        })
        let testPath = try #require(try s.read { db in try String.fetchOne(db, sql: "SELECT path FROM images WHERE sha256 = ?", arguments: [testImage]) })
        let leak = try inputs.addCrop(of: try Data(contentsOf: ws.imageURL(relativePath: testPath)), keyword: "Banchan platter", named: "found-elsewhere.jpg")
        try s.run(["collect", "--keywords", try inputs.keywordFile("Banchan platter").path, "--quiet"])
        for command in ["filter", "describe", "mcq", "shards"] { try s.run([command, "--quiet"]) }
        #expect(try s.splits()[leak] == "train", "the copy is a training image (its keyword has no other photo to test on)")
        #expect(try s.decisions(leak)["duplicates"]?.pass == 1, "the pHash does not match the copy")
        #expect(try s.pairedImages().contains(leak), "the copy of a test image is trained on")
        let blind = try s.run(["check", "--json"])
        #expect(try blind.json()["ok"] as? Bool == true, "the pHash side cannot see the copy: \(blind.stdout.prefix(2000))")

        // 2. With embeddings; a new keyword with a photo and its cropped copy.
        #expect(try s.cli.run(["init", inputs.workspace.path, "--recipe", inputs.tmp.path("embeddings.yaml").path, "--quiet"]).status == 0)
        let late = try #require(try KViscuitFixture.type1Items().first { $0.imagePath == Self.latePhoto })
        let lateData = try Data(contentsOf: TestPaths.kViscuitImages.appendingPathComponent(late.imagePath))
        try inputs.folder.add(late, keyword: "Jeon platter")
        let trainImage = ContentHash.sha256Hex(lateData)
        let duplicate = try inputs.addCrop(of: lateData, keyword: "Jeon platter", named: "same-photo-cropped.jpg")
        try s.run(["collect", "--keywords", try inputs.keywordFile("Jeon platter").path, "--quiet"])

        // Before embed: every image is undecided (a failure that says what to run), none is dropped.
        let before = try s.run(["filter", "--json"], expect: 1)
        let summary = try before.json()
        #expect(summary["kept"] as? Int == 0 && (summary["dropped"] as? [String: Int] ?? [:])["clip_rank"] == nil, "\(summary)")
        #expect(summary["undecided"] as? Int == 2 * inputs.keywords.count + 3)
        #expect(before.stderr.contains("image \(duplicate.prefix(12)) (Jeon platter): clip_rank undecided"), "\(before.stderr.suffix(2000))")
        #expect(before.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }.allSatisfy { $0.contains("run `dsbuild embed`") })
        #expect(try s.decisions(duplicate)["clip_rank"]?.pass == -1)

        // embed, killed midway (SIGKILL between batches), then resumed: only the missing vectors are computed.
        let images = 2 * inputs.keywords.count + 3
        let killed = try CommandRunner(environment: environment.merging(["DSBUILD_TEST_EMBED_DELAY_MS": "700"]) { $1 })
            .start(["embed", "--workspace", inputs.workspace.path, "--quiet"])
        let started = Date()
        func recorded() -> Int { (try? s.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM image_embeddings") ?? 0 }) ?? 0 }
        while recorded() < 4 && Date().timeIntervalSince(started) < 120 { Thread.sleep(forTimeInterval: 0.05) }
        killed.kill()
        _ = killed.wait()
        let done = recorded()
        #expect(done >= 4 && done < images, "killed after \(done) of \(images)")
        let resumed = try s.run(["embed", "--json"])
        let embedded = try #require(try resumed.json()["images"] as? [String: Any])
        #expect(embedded["already"] as? Int == done && embedded["embedded"] as? Int == images - done, "\(embedded)")

        // The leak, in the shards written before, is now reported, naming the copy and the test image.
        let report = try s.run(["check", "--only", "split_disjoint"], expect: 1)
        let lines = report.stdout.split(separator: "\n").filter { $0.hasPrefix("split_disjoint:") }
        #expect(!lines.isEmpty && lines.allSatisfy { $0.contains(leak) && $0.contains("at embedding cosine") && $0.contains("test image \(testImage)") },
                "\(report.stdout.prefix(3000))")

        // filter: the cropped copy is a semantic duplicate of its original; the test image's copy is kept (its keyword
        // has no other photo): it is the split, not the filter, that keeps it from training.
        try s.run(["filter", "--quiet"])
        let dropped = try #require(try s.decisions(duplicate)["semantic_duplicates"])
        #expect(dropped.pass == 0 && dropped.reason.hasPrefix("semantic duplicate of \(trainImage.prefix(12)) (cosine 0.99"), "\(dropped)")
        #expect(try s.decisions(trainImage)["semantic_duplicates"]?.pass == 1)
        #expect(try s.decisions(leak)["semantic_duplicates"]?.pass == 1)
        let semanticDrops = try s.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM filter_decisions WHERE rule = 'semantic_duplicates' AND pass = 0") }
        #expect(semanticDrops == 1, "no two different photos meet at cosine \(Self.threshold)")
        let ranks = try s.read { db in try String.fetchAll(db, sql: "SELECT reason FROM filter_decisions WHERE rule = 'clip_rank'") }
        #expect(ranks.count == images && ranks.allSatisfy { $0.range(of: #"^clip_rank [1-9] <= 9: closest other keyword ".+"$"#, options: .regularExpression) != nil },
                "\(ranks)")

        // shards: the copy of the test image leaves training; check passes.
        for command in ["describe", "mcq"] { try s.run([command, "--quiet"]) }
        let shards = try s.run(["shards", "--json"])
        let written = try shards.json()
        #expect(written["excluded_semantic_duplicates_of_test"] as? Int == 1, "\(written)")
        let trained = try s.pairedImages()
        #expect(!trained.contains(leak) && !trained.contains(duplicate) && !trained.contains(testImage))
        #expect(trained.contains(trainImage))
        let final = try s.run(["check", "--json"])
        let checks = try final.json()
        #expect(checks["ok"] as? Bool == true, "\(final.stdout.prefix(3000))")
    }
}
