import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

/// A Python environment the export readers run in, made by a repository script on first use.
struct ReaderVenv: Sendable {
    let python: URL?
    /// Why it is not there (the calling test says so and skips that reader).
    let unavailable: String?

    /// Runs `script` (relative to the repository) to make the venv at `venv`; nil python when it fails.
    static func make(script: String, venv: String) -> ReaderVenv {
        let root = TestPaths.repositoryRoot
        let result = try? ExportReadersTests.python(URL(fileURLWithPath: "/usr/bin/env"), ["bash", root.appendingPathComponent(script).path], cwd: root)
        let python = root.appendingPathComponent("\(venv)/bin/python")
        guard let result, result.status == 0, FileManager.default.isExecutableFile(atPath: python.path) else {
            return ReaderVenv(python: nil, unavailable: "\(script) could not make \(venv): \(result?.stderr.suffix(800) ?? "not run")")
        }
        return ReaderVenv(python: python, unavailable: nil)
    }

    static let interop = make(script: "scripts/pyenv-interop.sh", venv: ".venv-interop")
    static let llamaFactory = make(script: "scripts/llamafactory-venv.sh", venv: ".venv-llamafactory")
}

/// Every `shards --export` format read back by its own tool's reading code, through the commands on real K-Viscuit
/// images and the world's images (greyscale JPEG, PNG with alpha, WebP, EXIF-rotated photos), with `--resize`:
/// LLaMA-Factory 0.9.5's loader (sharegpt and alpaca), VLMEvalKit's TSV contract (pandas + its image resolution),
/// lmms-eval's task YAML and generated utils.py, OpenAI's fine-tuning rules (scripts/interop/check_openai_finetune.py),
/// LLaVA's pretrain shape; every image in every export at the requested size, upright; `check` passes.
@Suite(.serialized) struct ExportReadersTests {
    static let allExports = ["llava", "llava-pretrain", "llama-factory", "openai", "mcq", "vlmevalkit", "lmms-eval"]
    static let side = 160
    static let openAIFileBytes = 400_000

    static func python(_ executable: URL, _ arguments: [String], cwd: URL? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let cwd { process.currentDirectoryURL = cwd }
        var environment = ProcessInfo.processInfo.environment
        environment["HF_DATASETS_OFFLINE"] = "1"
        environment["HF_HUB_OFFLINE"] = "1"
        environment["HF_HOME"] = FileManager.default.temporaryDirectory.appendingPathComponent("dsbuild-export-readers-hf").path
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
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// Runs a reader script and parses the JSON it prints; a failure records the script's stderr.
    static func read(_ venv: URL, _ script: String, _ arguments: [String]) throws -> [String: Any] {
        let path = TestPaths.repositoryRoot.appendingPathComponent("scripts/interop/\(script)").path
        let result = try python(venv, [path] + arguments)
        #expect(result.status == 0, "\(script) \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr.suffix(3000))")
        let line = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(script) printed \(result.stdout.suffix(500))")
    }

    @Test func everyExportReadsBackInItsOwnToolAtTheRequestedSize() throws {
        let inputs = try SoundExperimentTests.Inputs()
        // The OpenAI files cut at 400 kB through the recipe key (the default, 512 MB, would hold all in one).
        let recipe = try String(contentsOf: inputs.recipe, encoding: .utf8)
        try #require(recipe.contains("  shard_size: 16\n"))
        try recipe.replacingOccurrences(of: "  shard_size: 16\n", with: "  shard_size: 16\n  openai:\n    max_file_bytes: \(Self.openAIFileBytes)\n")
            .write(to: inputs.recipe, atomically: true, encoding: .utf8)
        // Greyscale photos (the API refuses them) beside the K-Viscuit ones of four keywords, so some train.
        let folder = try PhotoFolder(root: inputs.photos)
        var greys: [String] = []
        for i in 5..<9 {
            let grey = ImageFactory.blockJPEG(width: 240, height: 180, components: 1) { bx, by in [UInt8((bx * (17 + 8 * i) + by * (29 + 6 * i) + bx * by * i) % 256)] }
            _ = try folder.add(grey, named: "grey-\(i).jpg", keyword: inputs.keywords[i], attribution: .madeByTest("grey-\(i).jpg"))
            greys.append(ContentHash.sha256Hex(grey))
        }
        let chat = FakeChatEndpoint(responder: PipelineChatResponder.respondAsAModel)
        let server = try chat.serve()
        defer { server.stop() }
        let s = SoundExperimentTests.Session(inputs: inputs, cli: CommandRunner(environment: [
            "OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-exports-0123456789"]))
        try s.run(["init", inputs.workspace.path, "--recipe", inputs.recipe.path, "--quiet"], workspaceOption: false)
        for command in ["collect", "filter", "describe", "mcq"] { try s.run([command, "--quiet"]) }
        try s.run(["shards", "--resize", "keep_ratio", "--image-size", "\(Self.side)"] + Self.allExports.flatMap { ["--export", $0] } + ["--quiet"])
        let t = try SoundExperimentTests.Truth(s)
        let shards = inputs.workspace.appendingPathComponent("shards")
        let exports = shards.appendingPathComponent("exports")
        try SoundExperimentTests.expectNoTestDerivedContent(in: shards, truth: t)
        try SoundExperimentTests.expectCheckPasses(s)

        // The stored photos are larger than the requested size: the size checks below can fail.
        let storedSides = try s.read { db in try Int.fetchAll(db, sql: "SELECT MAX(COALESCE(display_width, width), COALESCE(display_height, height)) FROM images") }
        #expect(storedSides.contains { $0 > Self.side * 2 })
        let testQuestions = t.questions.filter { $0.split == "test" }
        let answers = try s.read { db in
            Dictionary(uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT id, answer FROM questions WHERE split = 'test' AND status = 'accepted'").map { ($0[0] as String, $0[1] as Int) })
        }
        func fits(_ size: Any?, _ item: String) {
            guard let size = size as? [Any], size.count == 3, let w = size[0] as? Int, let h = size[1] as? Int else {
                Issue.record("\(item) has no image size: \(String(describing: size))"); return
            }
            #expect(max(w, h) == Self.side, "\(item) is \(w)×\(h), not \(Self.side) on its longest side")
        }

        // The EXIF-rotated photos (stored landscape, upright portrait) leave upright in every export that shows them.
        let rotated: Set<String> = [WorldImage.rotated6.sha, WorldImage.rotated8.sha]
        var uprightSeen = 0
        func upright(_ size: Any?, sha: String, _ item: String) {
            guard rotated.contains(sha), let size = size as? [Any], let w = size[0] as? Int, let h = size[1] as? Int else { return }
            uprightSeen += 1
            #expect(h > w, "\(item) shows a rotated photo \(w)×\(h): not upright")
        }
        let questionImage = Dictionary(t.questions.map { ($0.id, $0.sha) }, uniquingKeysWith: { a, _ in a })

        guard let interop = ReaderVenv.interop.python else {
            Issue.record("the interop venv is required: \(ReaderVenv.interop.unavailable ?? "")"); return
        }
        // OpenAI: every rule of the fine-tuning guide, in the training and the validation file.
        let names = try FileManager.default.contentsOfDirectory(atPath: exports.path).sorted()
        let train = names.filter { $0 == "openai.jsonl" || $0.hasPrefix("openai-") }, validation = names.filter { $0.hasPrefix("openai_validation") }
        #expect(train.count >= 2 && !validation.isEmpty && !train.contains("openai.jsonl"), "\(names)")
        let openAI = try Self.read(interop, "check_openai_finetune.py", ["--train"] + train.map { exports.appendingPathComponent($0).path }
                                   + ["--validation"] + validation.map { exports.appendingPathComponent($0).path }
                                   + ["--max-file-bytes", "\(Self.openAIFileBytes)"])
        let files = try #require(openAI["files"] as? [[String: Any]])
        #expect(openAI["problems"] as? Int == 0)
        #expect(files.allSatisfy { ($0["max_side"] as? Int ?? 0) == Self.side }, "\(files)")
        #expect(files.reduce(0) { $0 + ($1["images"] as? Int ?? 0) } > 0)
        // The greyscale photo, when it trains, reaches OpenAI as RGB: no file holds an L-mode image (the checker decodes each).
        #expect(files.allSatisfy { Set((($0["modes"] as? [String: Int]) ?? [:]).keys).isSubset(of: ["RGB", "RGBA"]) })
        #expect(greys.contains { t.imageSplit[$0] == "train" }, "no greyscale photo trains: the RGB rule is not exercised")

        // VLMEvalKit: the TSV read by pandas as VLMEvalKit loads it; answers are the stored keys' letters.
        let vlm = try Self.read(interop, "read_exports.py", ["vlmevalkit", exports.appendingPathComponent("vlmevalkit").path])
        let imageRows = try #require(vlm["image_rows"] as? [[String: Any]])
        let textRows = (vlm["text_rows"] as? [[String: Any]]) ?? []
        #expect(imageRows.count + textRows.count == testQuestions.count)
        #expect(Set(imageRows.compactMap { $0["id"] as? String }) == Set(testQuestions.filter { !$0.sha.isEmpty }.map(\.id)))
        for row in imageRows {
            let id = row["id"] as? String ?? ""
            #expect(row["answer"] as? String == answers[id].flatMap { QuestionVocabulary.letter($0) }, "vlmevalkit row \(id)")
            fits(row["image"], "vlmevalkit row \(id)")
            upright(row["image"], sha: questionImage[id] ?? "", "vlmevalkit row \(id)")
        }
        #expect(Set(imageRows.compactMap { $0["l2"] as? String }) == ["type1", "type2"])

        // lmms-eval: the YAML parsed with its !function tag, the data through datasets, utils' functions on every doc.
        let lmms = try Self.read(interop, "read_exports.py", ["lmms-eval", exports.appendingPathComponent("lmms_eval").path])
        let docs = try #require(lmms["docs"] as? [[String: Any]])
        #expect(lmms["task"] as? String == "dsbuild_mcq" && (lmms["metrics"] as? [String]) == ["accuracy"])
        #expect(docs.count == testQuestions.count)
        for doc in docs {
            let id = doc["id"] as? String ?? ""
            #expect(doc["target"] as? String == answers[id].flatMap { QuestionVocabulary.letter($0) }, "lmms-eval doc \(id)")
            #expect((doc["right"] as? [String: Double])?["accuracy"] == 1 && (doc["wrong"] as? [String: Double])?["accuracy"] == 0, "lmms-eval doc \(id)")
            #expect((doc["text"] as? String)?.hasSuffix(QuestionVocabulary.instruction) == true)
            if doc["visuals"] as? Int == 1 {
                fits(doc["image"], "lmms-eval doc \(id)")
                upright(doc["image"], sha: questionImage[id] ?? "", "lmms-eval doc \(id)")
            }
            #expect((doc["visuals"] as? Int == 1) == !(testQuestions.first { $0.id == id }?.sha.isEmpty ?? true))
        }

        // LLaVA pretrain: image-caption pairs, the captions the visual descriptions of training images.
        let pretrain = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: exports.appendingPathComponent("llava_pretrain.json"))) as? [[String: Any]])
        #expect(!pretrain.isEmpty)
        for item in pretrain {
            let caption = ((item["conversations"] as? [[String: String]])?.last?["value"]) ?? ""
            #expect(t.trainTexts.contains(caption), "llava_pretrain \(item["id"] ?? "") caption is no training description")
        }

        // LLaMA-Factory's own loader: sharegpt and alpaca, paired and text-only, images found and at the size.
        guard let factory = ReaderVenv.llamaFactory.python else {
            print("skipping the LLaMA-Factory loader: \(ReaderVenv.llamaFactory.unavailable ?? "")"); return
        }
        let datasets = ["dsbuild_paired", "dsbuild_text", "dsbuild_alpaca_paired", "dsbuild_alpaca_text"]
        let loaded = try Self.read(factory, "llamafactory_load.py", [exports.path] + datasets)
        var counts: [String: Int] = [:]
        for name in datasets {
            let entry = try #require(loaded[name] as? [String: Any], "LLaMA-Factory loaded no \(name)")
            #expect(entry["formatting"] as? String == (name.contains("alpaca") ? "alpaca" : "sharegpt"))
            let rows = try #require(entry["rows"] as? [[String: Any]])
            counts[name] = rows.count
            for row in rows {
                #expect(row["response_roles"] as? [String] == ["assistant"] && (row["prompt_roles"] as? [String])?.last == "user", "\(name): \(row)")
                let images = (row["images"] as? [String]) ?? []
                #expect(row["image_tags"] as? Int == images.count, "\(name): <image> tags and images differ")
                #expect(images.count == (name.hasSuffix("paired") ? 1 : 0), "\(name): \(images)")
                for (path, size) in zip(images, (row["sizes"] as? [Any]) ?? []) {
                    fits(size, "\(name) image")
                    upright(size, sha: String((path as NSString).lastPathComponent.prefix(64)), "\(name) image \(path)")
                }
            }
        }
        // The greyscale photos leave greyscale for LLaMA-Factory (the dataset's own images); only OpenAI's are made RGB.
        let modes = datasets.flatMap { ((loaded[$0] as? [String: Any])?["rows"] as? [[String: Any]]) ?? [] }
            .flatMap { ($0["sizes"] as? [[Any]]) ?? [] }.compactMap { $0.last as? String }
        #expect(modes.contains("L") && modes.contains("RGB"), "\(Set(modes))")
        #expect(counts["dsbuild_paired"] == counts["dsbuild_alpaca_paired"] && (counts["dsbuild_paired"] ?? 0) > 0)
        #expect(uprightSeen >= 2, "the rotated photos reached \(uprightSeen) reader(s): the upright check is vacuous")
        #expect(counts["dsbuild_text"] == counts["dsbuild_alpaca_text"] && (counts["dsbuild_text"] ?? 0) > 0)
    }
}

extension ExportReadersTests {
    /// Imported test questions beside the generated ones: one without an image goes to VLMEvalKit's text file and is
    /// asked without a visual by lmms-eval; one whose option pandas would read as missing (`None`) is left out of the
    /// TSV with one line naming it, the rest is written, and `shards` exits 1.
    @Test func questionsWithoutAnImageAndCellsPandasLosesAreHandled() throws {
        let inputs = try SoundExperimentTests.Inputs()
        let chat = FakeChatEndpoint(responder: PipelineChatResponder.respondAsAModel)
        let server = try chat.serve()
        defer { server.stop() }
        let s = SoundExperimentTests.Session(inputs: inputs, cli: CommandRunner(environment: [
            "OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-exports-0123456789"]))
        try s.run(["init", inputs.workspace.path, "--recipe", inputs.recipe.path, "--quiet"], workspaceOption: false)
        for command in ["collect", "filter", "describe", "mcq"] { try s.run([command, "--quiet"]) }
        let keyword = inputs.keywords[0]
        let extra = inputs.tmp.path("extra.jsonl")
        let records: [[String: Any]] = [
            ["id_": "imported-text", "question": "Which of these is worn on the head?\tAnswer with care.", "options": ["\(keyword)", "A \"spoon\"", "A bowl"],
             "answer": 0, "question_type": 2, "category": "clothes", "split": "test", "keyword": keyword],
            ["id_": "imported-none", "question": "Which of these is a tool?", "options": ["None", "A hammer", "A cloud", "A song"],
             "answer": 1, "question_type": 2, "category": "tools", "split": "test", "keyword": keyword],
        ]
        try records.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
            .joined(separator: "\n").write(to: extra, atomically: true, encoding: .utf8)
        try s.run(["mcq", "--import", extra.path, "--format", "k-viscuit", "--quiet"])

        let shards = try s.run(["shards", "--export", "vlmevalkit", "--export", "lmms-eval", "--json"], expect: 1)
        let problems = shards.stderr.split(separator: "\n").filter { $0.contains("vlmevalkit") }
        #expect(problems.count == 1 && problems[0].contains("imported-none") && problems[0].contains("\"None\""), "\(shards.stderr)")
        #expect((try shards.json()["export_problems"] as? [String])?.count == 1)

        guard let interop = ReaderVenv.interop.python else {
            Issue.record("the interop venv is required: \(ReaderVenv.interop.unavailable ?? "")"); return
        }
        let exports = inputs.workspace.appendingPathComponent("shards/exports")
        let vlm = try Self.read(interop, "read_exports.py", ["vlmevalkit", exports.appendingPathComponent("vlmevalkit").path])
        let textRows = try #require(vlm["text_rows"] as? [[String: Any]])
        // (an imported id is stored with its origin's suffix, `imported-text#1`)
        #expect(textRows.count == 1 && (textRows.first?["id"] as? String)?.hasPrefix("imported-text") == true, "\(textRows)")
        // The tab and the quotes came back as written; the answer is the letter of the stored key.
        #expect(textRows.first?["question"] as? String == "Which of these is worn on the head?\tAnswer with care.")
        #expect(textRows.first?["options"] as? [String] == [keyword, "A \"spoon\"", "A bowl"] && textRows.first?["answer"] as? String == "A")
        let imageRows = try #require(vlm["image_rows"] as? [[String: Any]])
        #expect(!imageRows.isEmpty && !imageRows.contains { ($0["id"] as? String)?.hasPrefix("imported") == true })

        let lmms = try Self.read(interop, "read_exports.py", ["lmms-eval", exports.appendingPathComponent("lmms_eval").path])
        let docs = try #require(lmms["docs"] as? [[String: Any]])
        let imported = docs.filter { ($0["id"] as? String)?.hasPrefix("imported") == true }
        #expect(imported.count == 2 && imported.allSatisfy { $0["visuals"] as? Int == 0 })
        #expect(imported.first { ($0["id"] as? String)?.hasPrefix("imported-none") == true }?["target"] as? String == "B")
    }
}
