import Dataset
import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif
import Testing
import _DSBuildTestSupport

/// Issue 14's acceptance test: one workspace built through the commands only (`init → collect → filter → describe
/// → mcq → shards → eval`, then `run` again) on real K-Viscuit images from a photo folder with attribution sidecars,
/// plus images as the world sends them (PNG with alpha, greyscale JPEG, WebP, EXIF-rotated JPEGs), a CRLF keyword
/// CSV and the loopback chat fake as describer, question writer and the model under evaluation.
///
/// Between stages it asserts the experiment is sound: the stored split holds out images of every keyword that has
/// two or more; nothing derived from a test image reaches a training artifact; every Type 2 question is on an image
/// of its own split and every test question is scored in all three conditions; the exported test questions read
/// back with their images; a second `mcq` and a second `run` change no row and no byte; `check` passes every check.
@Suite(.serialized) struct SoundExperimentTests {
    static let allChecks: Set<String> = ["shards_intact", "answer_keys_stable", "split_disjoint", "askable", "text_only_no_image_refs",
                                         "orientation_applied", "one_image_format", "letter_balance", "provenance_complete", "exports_roundtrip",
                                         "relevance_confusions", "judgements_applied"]

    /// The inputs a user would have: photos, a keyword CSV written on Windows, a recipe.
    struct Inputs {
        let tmp = TemporaryDirectory("dsbuild-sound-e2e")
        var photos: URL { tmp.path("photos") }
        var recipe: URL { tmp.path("recipe.yaml") }
        var workspace: URL { tmp.path("ws") }
        /// Keyword → the images placed in its folder (world images by role).
        var world: [WorldImage: String] = [:]
        var keywords: [String] = []
        /// How many images the photo folder holds (every one passes the recipe's filter).
        var imageCount = 0

        /// 11 keywords of K-Viscuit: 3, 2, 3, 2, … real images each, the last keyword one image only; the five
        /// world images join the first five keywords.
        init(splitBy design: String = "image") throws {
            let items = try KViscuitFixture.type1Items().filter {
                !$0.keyword.contains("/") && FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
            }
            var seenKeyword = Set<String>(), seenImage = Set<String>()
            let chosen = Array(items.filter { seenKeyword.insert($0.keyword).inserted }.prefix(11))
            let chosenImages = Set(chosen.map(\.imagePath))
            var spare = items.filter { !chosenImages.contains($0.imagePath) && seenImage.insert($0.imagePath).inserted }.makeIterator()
            let folder = try PhotoFolder(root: photos)
            var csv = "keyword,category\r\n"
            for (i, item) in chosen.enumerated() {
                keywords.append(item.keyword)
                csv += "\"\(item.keyword.replacingOccurrences(of: "\"", with: "\"\""))\",\(item.category.lowercased())\r\n"
                try folder.add(item, keyword: item.keyword)
                imageCount += 1
                let extra = i == chosen.count - 1 ? 0 : (i % 2 == 0 ? 2 : 1)
                for _ in 0..<extra {
                    guard let next = spare.next() else { throw CocoaError(.fileNoSuchFile) }
                    try folder.add(next, keyword: item.keyword)
                    imageCount += 1
                }
                if i < WorldImage.allCases.count {
                    let image = WorldImage.allCases[i]
                    try folder.add(image.data, named: image.rawValue, keyword: item.keyword, attribution: .madeByTest(image.rawValue))
                    world[image] = item.keyword
                    imageCount += 1
                }
            }
            try csv.write(to: tmp.path("keywords.csv"), atomically: true, encoding: .utf8)
            try """
                name: sound-experiment
                keywords: keywords.csv
                contact: https://example.org/dsbuild-tests
                llm:
                  model: fake-model
                  concurrency: 4
                  image_max_side: 256
                collect:
                  per_keyword: 10
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
                  split_by: \(design)
                  test_fraction: 0.3
                  seed: 7
                  concurrency: 4
                shards:
                  out: shards
                  shard_size: 16
                  exports: [llava, llama-factory, openai, mcq]
                eval:
                  model: fake-model
                  conditions: [with-image]

                """.write(to: recipe, atomically: true, encoding: .utf8)
        }
    }

    /// Runs `dsbuild` against the workspace; fails the test (with stderr) on an unexpected status.
    struct Session {
        let inputs: Inputs
        let cli: CommandRunner

        @discardableResult
        func run(_ arguments: [String], workspaceOption: Bool = true, expect status: Int32 = 0,
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> CommandRunner.Result {
            let started = Date()
            let result = try cli.run(arguments + (workspaceOption ? ["--workspace", inputs.workspace.path] : []))
            print(String(format: "  dsbuild %@: %.1f s", arguments.prefix(3).joined(separator: " "), Date().timeIntervalSince(started)))
            #expect(result.status == status, "dsbuild \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr.suffix(3000))",
                    sourceLocation: sourceLocation)
            return result
        }

        /// Runs a `--json` command and parses its stdout; a non-JSON stdout fails naming the command and what it printed.
        func json(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws -> (result: CommandRunner.Result, object: [String: Any]) {
            let result = try run(arguments + ["--json"], sourceLocation: sourceLocation)
            guard let object = try? result.json() else {
                throw NotJSON(description: "dsbuild \(arguments.joined(separator: " ")) --json printed no JSON object: \(result.stdout.prefix(600))")
            }
            return (result, object)
        }

        func read<T>(_ body: (Database) throws -> T) throws -> T {
            try Workspace.open(at: inputs.workspace).manifest.read(body)
        }

        /// Every column of every row of the tables a rerun must not touch, in key order.
        func fingerprint() throws -> [String] {
            try read { db in
                var rows: [String] = []
                for (table, order) in [("questions", "id"), ("splits", "keyword_id, image_sha256"), ("descriptions", "id")] {
                    for row in try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY \(order)") {
                        rows.append(table + ":" + row.columnNames.map { "\($0)=\(row[$0] as DatabaseValue)" }.joined(separator: "|"))
                    }
                }
                return rows
            }
        }

        /// sha256 of every file under the workspace's `shards/`, by relative path.
        func shardFiles() throws -> [String: String] {
            try RunFiles.all(inputs.workspace.appendingPathComponent("shards")).mapValues { ContentHash.sha256Hex($0) }
        }
    }

    struct NotJSON: Error, CustomStringConvertible { let description: String }

    /// What the manifest says about the split and what was derived from the test images.
    struct Truth {
        var kept: [Int64: Set<String>] = [:]
        var keywordNames: [Int64: String] = [:]
        var imageSplit: [String: String] = [:]
        var testImages: Set<String> = []
        var testKeywords: Set<Int64> = []
        /// Descriptions that may not train: grounded on a test image, or (design `keyword`) of a test keyword.
        var testGroundedTexts: Set<String> = []
        /// Descriptions that may train (the scans' positive control: they must be found).
        var trainTexts: Set<String> = []
        var questions: [(id: String, type: Int, split: String, sha: String, keywordID: Int64, question: String)] = []

        init(_ s: Session) throws {
            var t = self
            try s.read { db in
                for pair in try KeptPairs.all(in: db) { t.kept[pair.keywordID, default: []].insert(pair.sha256) }
                for row in try Row.fetchAll(db, sql: "SELECT id, text FROM keywords") { t.keywordNames[row[0]] = row[1] }
                for row in try Row.fetchAll(db, sql: "SELECT image_sha256, split FROM splits WHERE image_sha256 != ''") {
                    t.imageSplit[row[0]] = row[1]
                }
                t.testImages = Set(t.imageSplit.filter { $0.value == "test" }.keys)
                t.testKeywords = Set(try Int64.fetchAll(db, sql: "SELECT keyword_id FROM splits WHERE image_sha256 = '' AND split = 'test'"))
                for row in try Row.fetchAll(db, sql: "SELECT keyword_id, image_sha256, text FROM descriptions WHERE status = 'accepted'") {
                    if t.testImages.contains(row[1] as String) || t.testKeywords.contains(row[0] as Int64) {
                        t.testGroundedTexts.insert(row[2])
                    } else {
                        t.trainTexts.insert(row[2])
                    }
                }
                t.questions = try Row.fetchAll(db, sql: "SELECT id, type, split, image_sha256, keyword_id, question FROM questions WHERE status = 'accepted' AND origin = 'generated' ORDER BY id")
                    .map { ($0[0], $0[1], $0[2], $0[3], $0[4], $0[5]) }
            }
            self = t
        }

        func questions(type: Int, split: String) -> [String] { questions.filter { $0.type == type && $0.split == split }.map(\.id) }
    }

    @Test func oneWorkspaceThroughTheCommandsIsASoundExperiment() throws {
        let started = Date()
        var lap = Date()
        func timed(_ what: String) { print(String(format: "  %@: %.1f s", what, Date().timeIntervalSince(lap))); lap = Date() }
        let inputs = try Inputs()
        let chat = FakeChatEndpoint(responder: PipelineChatResponder.respondAsAModel)
        let server = try chat.serve()
        defer { server.stop() }
        let s = Session(inputs: inputs, cli: CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString,
                                                                         "OPENAI_API_KEY": "sk-sound-0123456789"]))

        // init: the CRLF CSV gives every keyword, no "\r" in any.
        try s.run(["init", inputs.workspace.path, "--recipe", inputs.recipe.path, "--quiet"], workspaceOption: false)
        let stored = try s.read { db in try String.fetchAll(db, sql: "SELECT text FROM keywords ORDER BY id") }
        #expect(stored == inputs.keywords)
        try s.run(["collect", "--quiet"])
        try s.run(["filter", "--quiet"])

        // Every image kept, provenance from the sidecars on every one.
        let images = try s.read { db in
            try Row.fetchAll(db, sql: """
                SELECT i.sha256, c.license, c.author, c.page_url FROM images i JOIN downloads d ON d.image_sha256 = i.sha256
                  JOIN candidates c ON c.id = d.candidate_id
                """).map { (sha: $0[0] as String, license: $0[1] as String?, author: $0[2] as String?, page: $0[3] as String?) }
        }
        let keptAfterFilter = try s.read { db in try KeptPairs.all(in: db) }
        #expect(keptAfterFilter.count == inputs.imageCount, "kept \(keptAfterFilter.count) of \(inputs.imageCount)")
        for image in images { #expect(image.license != nil && image.author != nil && image.page != nil, "\(image.sha.prefix(12)) lacks provenance") }
        for world in WorldImage.allCases { #expect(keptAfterFilter.contains { $0.sha256 == world.sha }, "\(world.rawValue) was not kept") }

        try s.run(["describe", "--quiet"])
        let mcq = try s.json(["mcq"]).object

        // The split: stored for every kept pair; at least one held-out image per keyword with two or more.
        lap = Date()
        let t = try Truth(s)
        timed("manifest read")
        let storedPairs = try s.read { db in
            Set(try Row.fetchAll(db, sql: "SELECT keyword_id, image_sha256 FROM splits WHERE image_sha256 != ''").map { "\($0[0] as Int64)/\($0[1] as String)" })
        }
        for (keyword, shas) in t.kept {
            for sha in shas { #expect(storedPairs.contains("\(keyword)/\(sha)"), "kept pair \(keyword)/\(sha.prefix(12)) has no stored split") }
            if shas.count >= 2 {
                #expect(!shas.isDisjoint(with: t.testImages), "keyword \(t.keywordNames[keyword] ?? "") has \(shas.count) kept images and none held out")
                #expect(!shas.isSubset(of: t.testImages), "keyword \(t.keywordNames[keyword] ?? "") has no training image")
            }
        }
        let split = try #require(mcq["split"] as? [String: Any])
        #expect(split["split_by"] as? String == "image")
        #expect(split["keywords_without_test"] as? [String] == [inputs.keywords.last!])

        // Every Type 2 question is on a kept image of its keyword, in its split; Type 1 follows its image.
        #expect(!t.questions(type: 2, split: "test").isEmpty && !t.questions(type: 2, split: "train").isEmpty)
        #expect(!t.questions(type: 1, split: "test").isEmpty && !t.questions(type: 1, split: "train").isEmpty)
        for q in t.questions {
            #expect(!q.sha.isEmpty, "question \(q.id) is linked to no image")
            #expect(t.kept[q.keywordID]?.contains(q.sha) == true, "question \(q.id) is on \(q.sha.prefix(12)), not a kept image of its keyword")
            #expect(t.imageSplit[q.sha] == q.split, "question \(q.id) (\(q.split)) is on a \(t.imageSplit[q.sha] ?? "unsplit") image")
        }
        #expect(!t.testGroundedTexts.isEmpty)

        // Stability: a second mcq changes no row.
        let afterMCQ = try s.fingerprint()
        try s.run(["mcq", "--quiet"])
        #expect(try s.fingerprint() == afterMCQ, "a second mcq changed rows")

        // Shards and exports: nothing derived from a test image.
        try s.run(["shards", "--export", "llava", "--export", "llama-factory", "--export", "openai", "--export", "mcq", "--quiet"])
        let shards = inputs.workspace.appendingPathComponent("shards")
        lap = Date()
        try Self.expectNoTestDerivedContent(in: shards, truth: t)
        timed("test-derived content scan")
        try Self.expectTextShardsAskNothingOfAnImage(shards, truth: t)
        timed("text shard scan")

        try Self.expectEveryTestQuestionScoredInEveryCondition(s, truth: t)
        try Self.expectEvalImagesUpright(chat, s, truth: t, maxSide: 256)
        try Self.expectCheckPasses(s)

        // A second run of the whole recipe changes no row and no byte, and ends with the check.
        let rows = try s.fingerprint()
        lap = Date()
        let files = try s.shardFiles()
        timed("shard files hashed")
        #expect(files.keys.contains("exports/mcq_test/mcq_test.jsonl") && files.keys.contains("exports/openai.jsonl"))
        let requests = chat.requestCount
        let (rerun, runReport) = try s.json(["run", inputs.recipe.path])
        let closing = try #require(runReport["check"] as? [String: Any], "run printed no check: \(rerun.stdout.prefix(2000))")
        #expect(closing["ok"] as? Bool == true)
        #expect(Set((closing["checks"] as? [String: Any] ?? [:]).keys) == Self.allChecks)
        // The run's table counts eval's `eval.<condition>` rows under eval: its time, and the result it stored.
        let evalRow = try #require((runReport["stages"] as? [[String: Any]])?.first { $0["stage"] as? String == "eval" }, "\(runReport)")
        #expect(evalRow["status"] as? String == "ok" && evalRow["done"] as? Int == 1 && (evalRow["seconds"] as? Double ?? 0) > 0, "\(evalRow)")
        #expect(try s.fingerprint() == rows, "a second run changed rows")
        let after = try s.shardFiles()
        #expect(after.keys.sorted() == files.keys.sorted())
        for (path, sha) in files where after[path] != sha { Issue.record("a second run changed shards/\(path)") }
        // Only the eval stage asks the model again (its requests are cached answers or new asks; nothing else is asked).
        let asked = chat.bodies.dropFirst(requests)
        #expect(asked.allSatisfy { ($0["max_tokens"] as? Int ?? $0["max_completion_tokens"] as? Int ?? 99) <= 5 }, "a rerun asked the model to write again")

        let seconds = Date().timeIntervalSince(started)
        print("sound experiment end to end: \(Int(seconds)) s, \(chat.requestCount) chat requests")
    }

    /// The unseen-class design (`split_by: keyword`), through the same commands: a held-out keyword's images,
    /// descriptions (image-grounded and text-only) and questions reach no training artifact, and its questions are
    /// scored in every condition.
    @Test func heldOutKeywordsReachNoTrainingArtifact() throws {
        let inputs = try Inputs(splitBy: "keyword")
        let chat = FakeChatEndpoint(responder: PipelineChatResponder.respondAsAModel)
        let server = try chat.serve()
        defer { server.stop() }
        let s = Session(inputs: inputs, cli: CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString,
                                                                         "OPENAI_API_KEY": "sk-sound-0123456789"]))
        try s.run(["init", inputs.workspace.path, "--recipe", inputs.recipe.path, "--quiet"], workspaceOption: false)
        for command in ["collect", "filter", "describe", "mcq", "shards"] { try s.run([command, "--quiet"]) }
        let t = try Truth(s)
        // round(0.3 × 11) keywords held out, every kept image of theirs a test image, no other image one.
        #expect(t.testKeywords.count == 3)
        for (keyword, shas) in t.kept {
            let expected = t.testKeywords.contains(keyword) ? "test" : "train"
            for sha in shas { #expect(t.imageSplit[sha] == expected, "\(t.keywordNames[keyword] ?? "") image \(sha.prefix(12))") }
        }
        for q in t.questions {
            #expect(q.split == (t.testKeywords.contains(q.keywordID) ? "test" : "train"), "question \(q.id)")
            #expect(t.kept[q.keywordID]?.contains(q.sha) == true, "question \(q.id) is on no kept image of its keyword")
        }
        let textOnly = try s.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM descriptions WHERE status = 'accepted' AND mode = 'text-only' AND keyword_id IN (SELECT keyword_id FROM splits WHERE image_sha256 = '' AND split = 'test')") ?? 0
        }
        #expect(textOnly == 3, "the held-out keywords' text-only descriptions are among what may not train")
        let shards = inputs.workspace.appendingPathComponent("shards")
        try Self.expectNoTestDerivedContent(in: shards, truth: t)
        try Self.expectTextShardsAskNothingOfAnImage(shards, truth: t)
        try Self.expectEveryTestQuestionScoredInEveryCondition(s, truth: t)
        try Self.expectCheckPasses(s)
    }

    // MARK: Eval and check

    /// `dsbuild eval` with the fake as the model scores Type 1 and Type 2 in all three conditions, every test
    /// question asked; the exported test questions read back with the images beside them.
    static func expectEveryTestQuestionScoredInEveryCondition(_ s: Session, truth t: Truth) throws {
        let shards = s.inputs.workspace.appendingPathComponent("shards")
        // Eval: the fake as the model, Type 1 and Type 2 in all three conditions, every test question asked.
        for condition in ["with-image", "no-image", "description-only"] {
            let (result, report) = try s.json(["eval", "--condition", condition])
            #expect(!result.stderr.contains("has no image") && !result.stderr.contains("cannot be read"), "\(condition): \(result.stderr.suffix(1000))")
            #expect(report["errors"] as? Int == 0, "\(condition): \(report["errors"] ?? "")")
            let byType = try #require(report["by_type"] as? [String: [String: Any]])
            for type in [1, 2] {
                #expect(byType["\(type)"]?["n"] as? Int == t.questions(type: type, split: "test").count, "\(condition) Type \(type): \(byType["\(type)"] ?? [:])")
            }
        }
        // The exported test questions read back, with the images beside them.
        let exported = shards.appendingPathComponent("exports/mcq_test/mcq_test.jsonl")
        let (fromFile, fileReport) = try s.json(["eval", "--questions", exported.path, "--condition", "with-image"])
        #expect(fileReport["errors"] as? Int == 0, "\(fromFile.stderr.suffix(1000))")
        let fileTypes = try #require(fileReport["by_type"] as? [String: [String: Any]])
        for type in [1, 2] { #expect(fileTypes["\(type)"]?["n"] as? Int == t.questions(type: type, split: "test").count) }
    }

    /// `dsbuild check --json`: ok, every check runs and passes.
    static func expectCheckPasses(_ s: Session) throws {
        let (check, checkReport) = try s.json(["check"])
        #expect(checkReport["ok"] as? Bool == true, "\(check.stdout.prefix(4000))")
        let checks = try #require(checkReport["checks"] as? [String: [String: Any]])
        #expect(Set(checks.keys) == Self.allChecks)
        for (name, result) in checks { #expect(result["ok"] as? Bool == true && result["violations"] as? Int == 0, "\(name): \(result)") }
    }

    /// Every image `eval --condition with-image` sent is upright (no orientation tag but 1) and within
    /// `llm.image_max_side`, though the stored test images include ones that are not.
    static func expectEvalImagesUpright(_ chat: FakeChatEndpoint, _ s: Session, truth t: Truth, maxSide: Int) throws {
        let stored = try s.read { db in
            try Row.fetchAll(db, sql: "SELECT sha256, path FROM images").map { (sha: $0[0] as String, path: $0[1] as String) }
        }
        let testHeaders = try stored.filter { t.testImages.contains($0.sha) }
            .compactMap { ImageHeader.read(try Data(contentsOf: s.inputs.workspace.appendingPathComponent($0.path))) }
        #expect(testHeaders.contains { ![nil, 1].contains($0.orientation) || max($0.width, $0.height) > maxSide },
                "no test image is rotated or larger than \(maxSide); the check below would be vacuous")
        var sent = 0
        for body in chat.bodies where (body["max_tokens"] as? Int ?? body["max_completion_tokens"] as? Int ?? 99) <= 5 {
            for image in ByteScan.dataURLImages(try JSONSerialization.data(withJSONObject: body, options: [.withoutEscapingSlashes])) {
                sent += 1
                let header = try #require(ImageHeader.read(image), "eval sent an image no reader understands")
                #expect([nil, 1].contains(header.orientation), "eval sent an image with EXIF orientation \(header.orientation ?? 0): shown sideways")
                #expect(max(header.width, header.height) <= maxSide, "eval sent a \(header.width)×\(header.height) image; llm.image_max_side is \(maxSide)")
            }
        }
        #expect(sent >= t.questions.filter { $0.split == "test" }.count, "eval sent \(sent) images")
    }

    // MARK: Training artifacts

    /// No paired sample, text record or export (the test-question export aside) carries a test image, names one,
    /// quotes a description grounded on one, or holds a test question.
    static func expectNoTestDerivedContent(in shards: URL, truth t: Truth) throws {
        let testQuestionIDs = Set(t.questions.filter { $0.split == "test" }.map(\.id))
        let testType2Stems = Set(t.questions.filter { $0.split == "test" && $0.type == 2 }.map(\.question))
        let forbidden: [(needle: Data, what: String)] =
            t.testImages.map { (Data($0.utf8), "names test image \($0.prefix(12))") }
            + t.testGroundedTexts.map { (Data(jsonEscaped($0).utf8), "quotes a description grounded on a test image") }
            + testQuestionIDs.map { (Data("\"\($0)\"".utf8), "carries test question \($0)") }
            + testType2Stems.map { (Data(jsonEscaped($0).utf8), "carries a test question's stem: \($0.prefix(60))") }
        // Positive control: what may train is found by the same search, so finding nothing forbidden means something.
        var allowed = Set(t.trainTexts.map { Data(jsonEscaped($0).utf8) })
        allowed.formUnion(t.questions.filter { $0.split == "train" && $0.type == 2 }.map { Data(jsonEscaped($0.question).utf8) })
        let allowedCount = allowed.count
        func expectClean(_ data: Data, _ name: String) {
            for item in forbidden where contains(data, item.needle) { Issue.record("\(name) \(item.what)") }
            allowed = allowed.filter { !contains(data, $0) }
        }
        var pairedSamples = 0, textFiles = 0
        // The test split's own exports (the question files eval and the evaluation tools read) hold test questions by design.
        let testSplitExports = ["exports/mcq_test/", "exports/vlmevalkit/", "exports/lmms_eval/"]
        for (path, data) in try RunFiles.all(shards) where !testSplitExports.contains(where: { path.hasPrefix($0) }) && path != "shards.json" {
            if path.hasSuffix(".tar") {
                for member in try TarReading.members(data) {
                    if member.name.hasSuffix(".json") || member.name.hasSuffix(".txt") {
                        expectClean(member.data, "\(path) \(member.name)")
                        if member.name.hasSuffix(".json"),
                           let sample = try JSONSerialization.jsonObject(with: member.data) as? [String: Any] {
                            pairedSamples += 1
                            #expect(!t.testImages.contains(sample["image_sha256"] as? String ?? ""), "\(path) \(member.name) is a test image")
                        }
                    } else {
                        #expect(!t.testImages.contains(ContentHash.sha256Hex(member.data)), "\(path) \(member.name) holds a test image's bytes")
                    }
                }
            } else if path.hasPrefix("exports/images/") {
                let name = (path as NSString).lastPathComponent
                #expect(!t.testImages.contains(String(name.prefix(64))), "\(path) is a test image")
                #expect(!t.testImages.contains(ContentHash.sha256Hex(data)))
            } else {
                textFiles += 1
                expectClean(data, path)
                guard contains(data, Data("data:image/".utf8)) else { continue }
                for image in ByteScan.dataURLImages(data) where t.testImages.contains(ContentHash.sha256Hex(image)) {
                    Issue.record("\(path) embeds a test image")
                }
            }
        }
        #expect(pairedSamples > 0 && textFiles >= 5, "paired samples \(pairedSamples), text files \(textFiles)")
        #expect(allowedCount > 0 && allowed.count < allowedCount / 2,
                "\(allowed.count) of \(allowedCount) training descriptions and stems found in no training artifact; the scan sees nothing")
    }

    /// Text-only records: no Type 1 question and no question that refers to an image.
    static func expectTextShardsAskNothingOfAnImage(_ shards: URL, truth t: Truth) throws {
        let index = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: shards.appendingPathComponent("shards.json"))) as? [String: Any])
        let type1Stems = Set(t.questions.filter { $0.type == 1 }.map(\.question))
        let imageReferring = t.questions.filter { $0.type == 2 && $0.split == "train" && ImageReference.refersToImage($0.question) }
        #expect(!imageReferring.isEmpty, "the fake wrote no image-referring training question; the check below would be vacuous")
        var questions = 0
        for entry in index["text"] as? [[String: Any]] ?? [] {
            let file = shards.appendingPathComponent(try #require(entry["file"] as? String))
            for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
                let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let messages = record["messages"] as? [[String: Any]] ?? []
                for message in messages where message["role"] as? String == "user" {
                    let content = message["content"] as? String ?? ""
                    if record["kind"] as? String == "qa" { questions += 1 }
                    #expect(!type1Stems.contains { content.contains($0) }, "\(file.lastPathComponent) \(record["id"] ?? ""): a Type 1 question")
                    #expect(!ImageReference.refersToImage(content), "\(file.lastPathComponent) \(record["id"] ?? ""): \(content.prefix(80))")
                }
            }
        }
        #expect(questions > 0, "no question trains text-only")
    }

    /// Whether `needle` occurs in `haystack`, on bytes (the exports hold megabytes of base64, too slow to search as
    /// Swift strings in a debug build).
    static func contains(_ haystack: Data, _ needle: Data) -> Bool { ByteScan.contains(haystack, needle) }

    static func jsonEscaped(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data()
        return String(String(decoding: data, as: UTF8.self).dropFirst(2).dropLast(2))
    }
}
