import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

extension ExportReadersTests {
    /// No text becomes an image tag (a model's reply holding a placeholder token is rejected by `ReplyHygiene`, see
    /// ReplyHygieneTests; other stored texts are neutralised, see ExportFormatTests):
    /// LLaMA-Factory's own loader and its placeholder check (`_validate_messages`) accept every row, LLaVA's file has
    /// one `<image>` per image, no other file any. A test question asked on a training image holds that image out of
    /// every training artifact (and shards.json counts it). A test question whose options pandas reads as numbers is
    /// left out of VLMEvalKit with one line; an empty category reads back as text. A later run with other exports
    /// removes what this one wrote.
    @Test func placeholderTokensTestQuestionImagesAndNumberCellsAreHandled() throws {
        let inputs = try SoundExperimentTests.Inputs()
        let chat = FakeChatEndpoint(responder: PipelineChatResponder.respondAsAModel)
        let server = try chat.serve()
        defer { server.stop() }
        let s = SoundExperimentTests.Session(inputs: inputs, cli: CommandRunner(environment: [
            "OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-exports-0123456789"]))
        try s.run(["init", inputs.workspace.path, "--recipe", inputs.recipe.path, "--quiet"], workspaceOption: false)
        for command in ["collect", "filter", "describe", "mcq"] { try s.run([command, "--quiet"]) }

        // A training image (kept, in the split's train side, with paired samples) that a test question is now asked on.
        let trainImages = try s.read { db in
            try Row.fetchAll(db, sql: """
                SELECT i.sha256, i.path FROM images i JOIN splits sp ON sp.image_sha256 = i.sha256 AND sp.split = 'train'
                 WHERE i.sha256 IN (SELECT image_sha256 FROM kept_pairs)
                   AND i.sha256 NOT IN (SELECT image_sha256 FROM splits WHERE split = 'test') ORDER BY i.sha256 LIMIT 1
                """).map { ($0[0] as String, $0[1] as String) }
        }
        try #require(trainImages.count == 1)
        let (leak, leakPath) = trainImages[0]
        let images = inputs.tmp.path("import-images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        let leakName = "trainimg." + (leakPath as NSString).pathExtension
        try FileManager.default.copyItem(at: inputs.workspace.appendingPathComponent(leakPath), to: images.appendingPathComponent(leakName))
        let keyword = inputs.keywords[0]
        let records: [[String: Any]] = [
            ["id_": "imp-leak", "question": "What colour is the hat?", "options": ["red", "blue", "green", "black"], "answer": 0,
             "question_type": 2, "category": "leak", "split": "test", "image_path": leakName, "keyword": keyword],
            ["id_": "imp-year", "question": "Which year?", "options": ["1988", "007", "2001", "1e3"], "answer": 1,
             "question_type": 2, "category": "years", "split": "test", "keyword": keyword],
            ["id_": "imp-nocat", "question": "Which of these is a tool?", "options": ["A hammer", "A cloud", "A song"], "answer": 0,
             "question_type": 2, "category": "", "split": "test"],
        ]
        let file = inputs.tmp.path("imports.jsonl")
        try records.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
            .joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        try s.run(["mcq", "--import", file.path, "--format", "k-viscuit", "--images", images.path, "--quiet"])
        let leakQuestion = try s.read { db in try String.fetchOne(db, sql: "SELECT image_sha256 FROM questions WHERE id LIKE 'imp-leak%' AND split = 'test' AND status = 'accepted'") }
        try #require(leakQuestion == leak, "the imported test question is not asked on the training image")

        let exportNames = ["llava", "llava-pretrain", "llama-factory", "openai", "mcq", "vlmevalkit", "lmms-eval"]
        let run = try s.run(["shards"] + exportNames.flatMap { ["--export", $0] } + ["--json"], expect: 1)
        let problems = run.stderr.split(separator: "\n").filter { $0.hasPrefix("vlmevalkit") || $0.contains("vlmevalkit:") }
        #expect(problems.count == 1 && problems.first?.contains("imp-year") == true && problems.first?.contains("number") == true, "\(run.stderr)")

        let shards = inputs.workspace.appendingPathComponent("shards"), exports = shards.appendingPathComponent("exports")
        // Finding 2: the image of a test question trains nowhere, and shards.json counts it held out.
        let testOnly: Set<String> = ["mcq_test", "vlmevalkit", "lmms_eval"]
        let fm = FileManager.default
        for case let url as URL in fm.enumerator(at: shards, includingPropertiesForKeys: [.isRegularFileKey])! {
            let relative = String(url.path.dropFirst(shards.path.count + 1))
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                  !testOnly.contains { relative.hasPrefix("exports/\($0)/") }, relative != "shards.json" else { continue }
            let data = try Data(contentsOf: url)
            #expect(!relative.contains(leak) && data.range(of: Data(leak.utf8)) == nil, "\(relative) holds the test question's image \(leak.prefix(12))")
        }
        let index = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: shards.appendingPathComponent("shards.json"))) as? [String: Any])
        let excluded = try s.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT image_sha256) FROM kept_pairs WHERE image_sha256 IN (SELECT image_sha256 FROM splits WHERE split = 'test' AND image_sha256 != '')") ?? 0
        }
        let counted = index["excluded_test_images"] as? Int
        #expect(counted == excluded + 1, "shards.json: \(String(describing: counted)) test images held out; the split has \(excluded), plus the question's")

        // Finding 1: one <image> per image in LLaVA's file, none in any other text.
        let llava = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: exports.appendingPathComponent("llava.json"))) as? [[String: Any]])
        for item in llava {
            let values = ((item["conversations"] as? [[String: String]]) ?? []).compactMap { $0["value"] }.joined(separator: "\n")
            let tags = values.components(separatedBy: "<image>").count - 1
            #expect(tags == (item["image"] == nil ? 0 : 1), "llava \(item["id"] ?? ""): \(tags) <image> tag(s)")
            for token in ImageReference.tokens where token != "<image>" { #expect(!values.contains(token), "llava \(item["id"] ?? ""): \(token)") }
        }
        for case let url as URL in fm.enumerator(at: shards, includingPropertiesForKeys: nil)! where ["jsonl", "tsv", "yaml"].contains(url.pathExtension) || url.lastPathComponent.hasPrefix("openai") {
            let text = String(decoding: try Data(contentsOf: url), as: UTF8.self)
            for token in ImageReference.tokens { #expect(!text.contains(token), "\(url.lastPathComponent) holds \(token)") }
        }

        // check agrees: every paired row of every export has one <image> per image (split_disjoint may name the
        // manifest's test question on a train-split image, and askable the imported questions without an image or a
        // keyword: what this test set up).
        let check = try s.cli.run(["check", "--json", "--workspace", inputs.workspace.path])
        let report = try #require(try? check.json(), "check printed \(check.stdout.prefix(400))")
        let checks = try #require(report["checks"] as? [String: [String: Any]])
        for (name, result) in checks where !["split_disjoint", "askable"].contains(name) {
            #expect(result["ok"] as? Bool == true, "\(name): \(result)")
        }

        guard let interop = ReaderVenv.interop.python else {
            Issue.record("the interop venv is required: \(ReaderVenv.interop.unavailable ?? "")"); return
        }
        // Finding 6: the number-like question is out; an empty category reads back as text, not NaN.
        let vlm = try Self.read(interop, "read_exports.py", ["vlmevalkit", exports.appendingPathComponent("vlmevalkit").path])
        let rows = ((vlm["image_rows"] as? [[String: Any]]) ?? []) + ((vlm["text_rows"] as? [[String: Any]]) ?? [])
        #expect(!rows.contains { ($0["id"] as? String)?.hasPrefix("imp-year") == true })
        let nocat = rows.first { ($0["id"] as? String)?.hasPrefix("imp-nocat") == true }
        #expect(nocat?["category"] as? String == "uncategorised", "\(String(describing: nocat))")
        #expect(rows.allSatisfy { $0["category"] is String })

        // LLaMA-Factory's loader and its own placeholder check accept every row (the script exits 1 on any it rejects).
        if let factory = ReaderVenv.llamaFactory.python {
            let loaded = try Self.read(factory, "llamafactory_load.py", [exports.path, "dsbuild_paired", "dsbuild_text", "dsbuild_alpaca_paired", "dsbuild_alpaca_text"])
            for (name, entry) in loaded {
                for row in ((entry as? [String: Any])?["rows"] as? [[String: Any]]) ?? [] {
                    #expect(row["image_tags"] as? Int == (row["images"] as? [String] ?? []).count, "\(name): \(row)")
                }
            }
        } else {
            print("skipping the LLaMA-Factory loader: \(ReaderVenv.llamaFactory.unavailable ?? "")")
        }

        // Finding 5: a run with only the OpenAI export leaves only its files, and says what went.
        let later = try s.run(["shards", "--export", "openai"])
        let left = try fm.contentsOfDirectory(atPath: exports.path).sorted()
        #expect(left.allSatisfy { $0.hasPrefix("openai") }, "\(left)")
        #expect(later.stderr.contains("removed") && later.stderr.contains("llava.json"), "\(later.stderr)")
    }
}

extension ExportReadersTests {
    /// 16-bit greyscale PNGs (Pillow's `I;16`, which `convert("RGB")` turns white) collected beside the K-Viscuit
    /// photos leave at 8 bits with `--image-format png`: in the paired shards as webdataset decodes them, in the
    /// training exports' and the test exports' image folders, as Pillow opens them.
    @Test func sixteenBitPNGsReachEveryReaderAtEightBits() throws {
        let inputs = try SoundExperimentTests.Inputs()
        let folder = try PhotoFolder(root: inputs.photos)
        var deep: Set<String> = []
        for i in 5..<9 {
            let png = ImageFactory.greyPNG16(width: 240, height: 180, seed: i)
            _ = try folder.add(png, named: "deep-\(i).png", keyword: inputs.keywords[i], attribution: .madeByTest("deep-\(i).png"))
            deep.insert(ContentHash.sha256Hex(png))
        }
        let chat = FakeChatEndpoint(responder: PipelineChatResponder.respondAsAModel)
        let server = try chat.serve()
        defer { server.stop() }
        let s = SoundExperimentTests.Session(inputs: inputs, cli: CommandRunner(environment: [
            "OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-exports-0123456789"]))
        try s.run(["init", inputs.workspace.path, "--recipe", inputs.recipe.path, "--quiet"], workspaceOption: false)
        for command in ["collect", "filter", "describe", "mcq"] { try s.run([command, "--quiet"]) }
        let kept = try s.read { db in try Set(String.fetchAll(db, sql: "SELECT DISTINCT image_sha256 FROM kept_pairs")) }
        try #require(!deep.isDisjoint(with: kept), "no 16-bit PNG was kept: the test is vacuous")
        try s.run(["shards", "--image-format", "png", "--export", "llava", "--export", "llama-factory", "--export", "mcq", "--quiet"])

        guard let interop = ReaderVenv.interop.python else {
            Issue.record("the interop venv is required: \(ReaderVenv.interop.unavailable ?? "")"); return
        }
        let shards = inputs.workspace.appendingPathComponent("shards"), exports = shards.appendingPathComponent("exports")
        var files: [String] = []
        for sub in ["images", "mcq_test/images"] {
            let dir = exports.appendingPathComponent(sub)
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [] where deep.contains(String(name.prefix(64))) {
                files.append(dir.appendingPathComponent(name).path)
            }
        }
        #expect(!files.isEmpty, "no 16-bit PNG reached an export folder")
        let seen = try Self.read(interop, "inspect_images.py", [shards.path] + files)
        for (path, info) in (seen["files"] as? [String: [String: Any]]) ?? [:] {
            #expect(info["mode"] as? String == "L", "\(path) opens as \(info["mode"] ?? "?") in Pillow")
        }
        var pairedDeep = 0
        for (key, sample) in (seen["webdataset"] as? [String: [String: Any]]) ?? [:] {
            guard let sha = (sample["json"] as? [String: Any])?["image_sha256"] as? String, deep.contains(sha) else { continue }
            pairedDeep += 1
            #expect(sample["mode"] as? String == "L", "paired sample \(key) opens as \(sample["mode"] ?? "?")")
        }
        #expect(pairedDeep + files.count > 0)
    }
}
