import Dataset
import Filter
import Foundation
import GRDB
import Generate
import Testing
import Train
import _DSBuildTestSupport

/// Every question file dsbuild writes reads back — through the commands, on K-Viscuit's real 657 questions and
/// 232 images: `mcq --import-k-viscuit --images` → `mcq --export --format F` → `eval --questions` and `mcq --import`.
@Suite(.serialized) struct QuestionFileRoundTripTests {
    let tmp = TemporaryDirectory("dsbuild-qfiles")
    let cli = CommandRunner()

    static func objects(_ url: URL) throws -> [NSDictionary] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? NSDictionary)
        }
    }

    /// K-Viscuit's questions imported with their images through the commands, once for the suite: the import
    /// (657 questions, 232 images probed and stored) is the same for every test, and each test works on a copy.
    struct Imported: @unchecked Sendable {
        let tmp: TemporaryDirectory
        let workspace: URL
        let created: CommandRunner.Result
        let imported: CommandRunner.Result

        static let shared: Result<Imported, any Error> = Result {
            let tmp = TemporaryDirectory.shared("dsbuild-qfiles-imported")
            let ws = tmp.path("ws")
            try "keyword,category\nGat,clothes\n".write(to: tmp.path("k.csv"), atomically: true, encoding: .utf8)
            let cli = CommandRunner()
            let created = try cli.run(["init", ws.path, "--keywords", tmp.path("k.csv").path])
            let imported = try cli.run(["mcq", "--workspace", ws.path, "--import-k-viscuit", TestPaths.kViscuitAnnotations.path,
                                        "--images", TestPaths.kViscuitImages.path, "--json"])
            return Imported(tmp: tmp, workspace: ws, created: created, imported: imported)
        }
    }

    /// A workspace holding K-Viscuit's questions, imported with their images: a copy of the suite's import, whose
    /// report every caller checks.
    func importedWorkspace(_ name: String) throws -> String {
        let ws = tmp.path(name).path
        try "keyword,category\nGat,clothes\n".write(to: tmp.path("k.csv"), atomically: true, encoding: .utf8)
        let fixture = try Imported.shared.get()
        let (created, imported) = (fixture.created, fixture.imported)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(imported.status == 0, "\(imported.stderr)")
        let json = try imported.json()
        #expect(json["imported"] as? Int == 657)
        // 11 questions name one of the 5 images K-Viscuit could not publish: imported without it, each said in one line.
        #expect(json["with_image"] as? Int == 646)
        #expect(json["image_problems"] as? Int == 11)
        #expect(imported.stderr.split(separator: "\n").filter { $0.contains("not found") }.count == 11)
        try FileManager.default.copyItem(at: fixture.workspace, to: URL(fileURLWithPath: ws))
        return ws
    }

    @Test func kViscuitImportThenExportGivesBackTheOriginalValueForValueWithItsImages() throws {
        let ws = try importedWorkspace("ws")
        let out = tmp.path("export/kv.jsonl")
        let exported = try cli.run(["mcq", "--workspace", ws, "--export", out.path, "--format", "k-viscuit", "--origin", "k-viscuit", "--json"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let report = try exported.json()
        #expect(report["exported"] as? Int == 657)
        #expect(report["images"] as? Int == 232)
        let original = try Self.objects(TestPaths.kViscuitAnnotations)
        let written = try Self.objects(out)
        #expect(original.count == 657 && written.count == 657)
        for (a, b) in zip(original, written) { #expect(a == b, "\(a)\n≠\n\(b)") }
        // The images beside the file: byte for byte, except those whose EXIF orientation was applied.
        let workspace = try Workspace.open(at: URL(fileURLWithPath: ws))
        let rotated = try workspace.manifest.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM images WHERE orientation > 1") ?? 0 }
        #expect(report["rotated"] as? Int == rotated)
        var same = 0, changed = 0
        for name in Set(original.compactMap { $0["image_path"] as? String }) {
            let source = TestPaths.kViscuitImages.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: source.path) else { continue }
            let copy = try Data(contentsOf: out.deletingLastPathComponent().appendingPathComponent("images/\(name)"))
            if copy == (try Data(contentsOf: source)) { same += 1 } else { changed += 1 }
        }
        #expect(same + changed == 232)
        #expect(changed == rotated)
    }

    /// Issue 15 case 1 for question files: K-Viscuit's file saved on Windows (CRLF) or old Mac (CR) imports the
    /// same 657 questions as the LF original, and a bad line is named by its 1-based number.
    @Test(arguments: ["\r\n", "\r"])
    func questionFilesWithCRLFOrCRLineEndsImportLikeTheLFOriginal(_ terminator: String) throws {
        let original = try String(contentsOf: TestPaths.kViscuitAnnotations, encoding: .utf8)
        let converted = original.replacingOccurrences(of: "\n", with: terminator)
        let file = tmp.path("kv-\(terminator.utf8.count).jsonl")
        try converted.write(to: file, atomically: true, encoding: .utf8)
        let ws = tmp.path("crlf-\(terminator.utf8.count)").path
        try "keyword,category\r\nGat,clothes\r\n".write(to: tmp.path("k.csv"), atomically: true, encoding: .utf8)
        #expect(try cli.run(["init", ws, "--keywords", tmp.path("k.csv").path]).status == 0)
        let imported = try cli.run(["mcq", "--workspace", ws, "--import-k-viscuit", file.path, "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try imported.json()["imported"] as? Int == 657)
        // A line that is not JSON, third in a CRLF file, is reported as line 3.
        let broken = tmp.path("broken-\(terminator.utf8.count).jsonl")
        let lines = original.split(separator: "\n").prefix(2).map(String.init) + ["{not json"]
        try (lines.joined(separator: terminator) + terminator).write(to: broken, atomically: true, encoding: .utf8)
        let refused = try cli.run(["mcq", "--workspace", ws, "--import-k-viscuit", broken.path])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("\(broken.path):3:"), "\(refused.stderr)")
    }

    @Test func workspaceEvalAsksImportedQuestionsWithTheirImagesApartFromGeneratedOnes() throws {
        let ws = try importedWorkspace("ws-eval")
        let chat = FakeChatEndpoint { _ in .content("A") }
        let server = try chat.serve()
        let endpoint = server.url("/v1").absoluteString
        // The generated test split has no question: imported ones no longer mix into it.
        let generated = try cli.run(["eval", "--workspace", ws, "--model", "m", "--endpoint", endpoint, "--json"])
        #expect(generated.status != 0)
        #expect(generated.stderr.contains("no questions to score"))
        #expect(chat.requestCount == 0)
        let answers = tmp.path("answers.jsonl")
        let result = try cli.run(["eval", "--workspace", ws, "--origin", "k-viscuit", "--split", "test", "--model", "m", "--endpoint", endpoint,
                                  "--condition", "with-image", "--answers", answers.path, "--json"])
        // 11 questions have no image: reported, scored wrong, exit status 1; the other 646 are asked with their image.
        #expect(result.status == 1)
        let json = try result.json()
        #expect(json["errors"] as? Int == 11)
        #expect((json["overall"] as? [String: Any])?["n"] as? Int == 657)
        #expect(chat.requestCount == 646)
        #expect(chat.bodies.allSatisfy { body in
            ((body["messages"] as? [[String: Any]])?.first?["content"] as? [[String: Any]])?.contains { $0["type"] as? String == "image_url" } == true
        })
        #expect(result.stderr.split(separator: "\n").filter { $0.contains("has no image") }.count == 11)
        let lines = try Self.objects(answers)
        #expect(lines.count == 657)
        #expect(lines.filter { $0["error"] is String }.count == 11)
    }

    @Test(arguments: ["dsbuild", "k-viscuit", "butterfly"])
    func everyExportReadsBackInEvalAndImportValueForValue(_ format: String) throws {
        let ws = try importedWorkspace("ws-\(format)")
        let file = tmp.path("out-\(format)/q.jsonl")
        let exported = try cli.run(["mcq", "--workspace", ws, "--export", file.path, "--format", format])
        #expect(exported.status == 0, "\(exported.stderr)")
        // eval --questions reads the same questions: ids, options (in the prompts) and answers.
        let chat = FakeChatEndpoint { body in .content(FakeChatEndpoint.lastUserText(body).contains("\nB. ") ? "B" : "A") }
        let server = try chat.serve()
        let answers = tmp.path("answers-\(format).jsonl")
        let read = try cli.run(["eval", "--questions", file.path, "--condition", "no-image", "--model", "m",
                                "--endpoint", server.url("/v1").absoluteString, "--answers", answers.path, "--json"])
        #expect(read.status == 0, "\(read.stderr)")
        let original = try Self.objects(TestPaths.kViscuitAnnotations)
        let asked = try Self.objects(answers)
        #expect(asked.count == 657)
        for (line, (o, a)) in zip(original, asked).enumerated() {
            let id = o["id_"] as! String
            #expect(a["id"] as? String == (format == "dsbuild" ? "\(id)#\(line + 1)" : id))
            #expect(a["options"] as? [String] == o["options"] as? [String])
            #expect(a["answer"] as? String == ["A", "B", "C", "D"][o["answer"] as! Int])
            #expect(a["type"] as? Int == o["question_type"] as? Int)
        }
        let prompts = Set(chat.bodies.map(FakeChatEndpoint.lastUserText))
        for o in original {
            let options = o["options"] as! [String]
            let prompt = ([o["question"] as! String] + options.enumerated().map { "\(["A", "B", "C", "D"][$0.offset]). \($0.element)" }
                          + ["Answer with the option's letter from the given choices directly."]).joined(separator: "\n")
            #expect(prompts.contains(prompt))
        }
        // Import into a fresh workspace (with the images beside the file) and export again: the same file, the same images.
        let ws2 = tmp.path("ws2-\(format)").path
        #expect(try cli.run(["init", ws2, "--keywords", tmp.path("k.csv").path]).status == 0)
        let again = try cli.run(["mcq", "--workspace", ws2, "--import", file.path, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try again.json()["imported"] as? Int == 657)
        #expect(try again.json()["with_image"] as? Int == 646)
        let file2 = tmp.path("out2-\(format)/q.jsonl")
        let second = try cli.run(["mcq", "--workspace", ws2, "--export", file2.path, "--format", format])
        #expect(second.status == 0, "\(second.stderr)")
        let first = try Self.objects(file), twice = try Self.objects(file2)
        #expect(first.count == twice.count)
        for (a, b) in zip(first, twice) { #expect(a == b, "\(a)\n≠\n\(b)") }
        for object in first {
            guard let name = (object["image_path"] ?? object["image"]) as? String,
                  FileManager.default.fileExists(atPath: file.deletingLastPathComponent().appendingPathComponent("images/\(name)").path) else { continue }
            #expect(try Data(contentsOf: file.deletingLastPathComponent().appendingPathComponent("images/\(name)"))
                    == Data(contentsOf: file2.deletingLastPathComponent().appendingPathComponent("images/\(name)")))
        }
        // The rows themselves: origin and split kept.
        let rows = try Workspace.open(at: URL(fileURLWithPath: ws2)).manifest.read { db in
            try Row.fetchAll(db, sql: "SELECT origin, split, COUNT(*) AS n FROM questions GROUP BY origin, split")
        }
        #expect(rows.count == 1 && rows.first?["origin"] as String? == "k-viscuit" && rows.first?["split"] as String? == "test")
        // The exported images were upright: read back, none carries an EXIF rotation, and each shows as it did.
        func images(_ ws: String) throws -> (rotated: Int, sizes: [String]) {
            try Workspace.open(at: URL(fileURLWithPath: ws)).manifest.read { db in
                (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM images WHERE orientation > 1") ?? -1,
                 try String.fetchAll(db, sql: "SELECT display_width || 'x' || display_height FROM images ORDER BY 1"))
            }
        }
        let (before, after) = (try images(ws), try images(ws2))
        #expect(before.rotated == 4 && after.rotated == 0)  // 222.jpg, 24.jpg, 50.jpg, 51.jpg (orientations 8, 6, 8, 6)
        #expect(before.sizes == after.sizes)
    }

    @Test func butterflyExportIsScoredWithItsImagesFromImagesDir() throws {
        let ws = try importedWorkspace("ws-bf-img")
        let file = tmp.path("bf/q.jsonl")
        #expect(try cli.run(["mcq", "--workspace", ws, "--export", file.path, "--format", "butterfly"]).status == 0)
        let moved = tmp.path("elsewhere")
        try FileManager.default.moveItem(at: file.deletingLastPathComponent().appendingPathComponent("images"), to: moved)
        let chat = FakeChatEndpoint { _ in .content("A") }
        let server = try chat.serve()
        let result = try cli.run(["eval", "--questions", file.path, "--images", moved.path, "--condition", "with-image", "--model", "m",
                                  "--endpoint", server.url("/v1").absoluteString, "--json"])
        #expect(result.status == 1)  // the 11 without an image
        #expect(try result.json()["errors"] as? Int == 11)
        #expect(chat.requestCount == 646)
    }

    /// A workspace of generated Type 1 questions, made by the commands from K-Viscuit images (directory source),
    /// once for the suite; each format's test exports from a copy of it.
    struct Generated: @unchecked Sendable {
        let tmp: TemporaryDirectory
        let workspace: URL
        let keywords: URL
        /// Each step's arguments and result, for the callers to check.
        let steps: [(arguments: [String], result: CommandRunner.Result)]

        static let shared: Result<Generated, any Error> = Result {
            let tmp = TemporaryDirectory.shared("dsbuild-qfiles-generated")
            let items = try KViscuitFixture.type1Items().filter {
                $0.category == "Food" && FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
            }
            var seen = Set<String>()
            let chosen = Array(items.filter { seen.insert($0.keyword).inserted && !$0.keyword.contains("/") }.prefix(8))
            let source = tmp.path("src")
            var csv = "keyword,category\n"
            for item in chosen {
                let folder = source.appendingPathComponent(item.keyword)
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
                try FileManager.default.copyItem(at: TestPaths.kViscuitImages.appendingPathComponent(item.imagePath),
                                                 to: folder.appendingPathComponent(item.imagePath))
                csv += "\"\(item.keyword)\",food\n"
            }
            let keywords = tmp.path("gen.csv")
            try csv.write(to: keywords, atomically: true, encoding: .utf8)
            let recipe = tmp.path("gen.yaml")
            try "name: gen\nfilter:\n  min_short_side: 100\n  aspect_ratio: [0.3, 3.0]\nmcq:\n  types: [1]\n  seed: 3\n"
                .write(to: recipe, atomically: true, encoding: .utf8)
            let ws = tmp.path("gen-ws").path
            let cli = CommandRunner()
            var steps: [(arguments: [String], result: CommandRunner.Result)] = []
            for step in [["init", ws, "--keywords", keywords.path, "--recipe", recipe.path],
                         ["collect", "--workspace", ws, "--sources", "directory", "--source-file", source.path, "--licenses", "any"],
                         ["filter", "--workspace", ws], ["mcq", "--workspace", ws, "--types", "1"]] {
                steps.append((step, try cli.run(step)))
            }
            return Generated(tmp: tmp, workspace: URL(fileURLWithPath: ws), keywords: keywords, steps: steps)
        }
    }

    /// A copy of the suite's generated workspace, and its keyword file; every step that built it is checked.
    func generatedWorkspace() throws -> (ws: String, keywords: URL) {
        let fixture = try Generated.shared.get()
        for (step, r) in fixture.steps { #expect(r.status == 0, "\(step[0]): \(r.stderr)") }
        let ws = tmp.path("gen-ws").path
        try FileManager.default.copyItem(at: fixture.workspace, to: URL(fileURLWithPath: ws))
        return (ws, fixture.keywords)
    }

    @Test(arguments: ["dsbuild", "k-viscuit", "butterfly"])
    func generatedQuestionsTravelToAnotherWorkspaceWithKeywordSplitAndImage(_ format: String) throws {
        let (ws, keywords) = try generatedWorkspace()
        let file = tmp.path("gen-\(format)/q.jsonl")
        let exported = try cli.run(["mcq", "--workspace", ws, "--export", file.path, "--format", format, "--json"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let first = try Self.objects(file)
        #expect(first.count >= 8)
        #expect(first.allSatisfy { ($0["image_path"] ?? $0["image"]) is String })
        let chat = FakeChatEndpoint { _ in .content("A") }
        let server = try chat.serve()
        let answers = tmp.path("gen-answers-\(format).jsonl")
        let read = try cli.run(["eval", "--questions", file.path, "--condition", "with-image", "--model", "m",
                                "--endpoint", server.url("/v1").absoluteString, "--answers", answers.path, "--json"])
        #expect(read.status == 0, "\(read.stderr)")
        #expect(chat.requestCount == first.count)
        let asked = try Self.objects(answers)
        #expect(asked.map { $0["id"] as? String } == first.map { ($0["id"] ?? $0["id_"]) as? String })
        let ws2 = tmp.path("gen-ws2-\(format)").path
        #expect(try cli.run(["init", ws2, "--keywords", keywords.path]).status == 0)
        let again = try cli.run(["mcq", "--workspace", ws2, "--import", file.path, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try again.json()["with_image"] as? Int == first.count)
        let file2 = tmp.path("gen2-\(format)/q.jsonl")
        #expect(try cli.run(["mcq", "--workspace", ws2, "--export", file2.path, "--format", format]).status == 0)
        let twice = try Self.objects(file2)
        #expect(first.count == twice.count)
        for (a, b) in zip(first, twice) { #expect(a == b, "\(a)\n≠\n\(b)") }
        // Same rows: keyword linked again, split and origin kept, the same (upright) image.
        func rows(_ ws: String) throws -> [String] {
            try Workspace.open(at: URL(fileURLWithPath: ws)).manifest.read { db in
                try String.fetchAll(db, sql: """
                    SELECT q.id || '|' || q.type || '|' || q.options || '|' || q.answer || '|' || q.split || '|' || q.origin || '|' ||
                           COALESCE(k.text, '') || '|' || i.display_width || 'x' || i.display_height
                      FROM questions q LEFT JOIN keywords k ON k.id = q.keyword_id LEFT JOIN images i ON i.sha256 = q.image_sha256
                     WHERE q.status = 'accepted' ORDER BY q.id
                    """)
            }
        }
        #expect(try rows(ws2) == rows(ws))
    }

    /// A workspace with the keyword Gat and K-Viscuit's 1.jpg stored (upright), for the model-level round trip.
    func workspaceWithGat(_ name: String) throws -> (Workspace, sha: String) {
        let workspace = try Workspace.create(at: tmp.path(name))
        _ = try KeywordStore.insert([KeywordEntry(text: "Gat", category: "clothes")], into: workspace.manifest)
        let image = try StoredQuestionImage.store(QuestionImageSource(folder: TestPaths.kViscuitImages).read("1.jpg"), in: workspace)
        try workspace.manifest.write { db in try image.record(in: db) }
        return (workspace, image.sha256)
    }

    /// Issue 16: one question model from the table to every file format and back to the table and eval. Every field
    /// the format carries comes back as it was; those it has no place for (aspect, rationale, model, template hash
    /// outside dsbuild's format) are the only ones lost, and the image's hash comes back from the image itself.
    @Test(arguments: QuestionFileFormat.allCases)
    func aQuestionSurvivesTableFileImportTableAndEvalFieldForField(_ format: QuestionFileFormat) async throws {
        let (source, sha) = try workspaceWithGat("model-src-\(format.rawValue)")
        let keywordID = try #require(try KeywordStore.all(in: source.manifest).first?.id)
        let original = Question(
            id: "t2-gat-0", type: 2, question: "What is the brim of this hat made of?", options: ["Bamboo", "Horsehair", "Silk", "Paper"],
            answer: 1, category: "clothes", split: "test", origin: "generated", keyword: "Gat", keywordID: keywordID, imageSHA256: sha,
            imagePath: "gat.jpg", imageURL: "https://example.org/gat.jpg", aspect: "material", rationale: "Gat brims are woven horsehair.",
            model: "m-1", templateSHA256: "abc123", extra: #"{"note":"kept"}"#)
        try source.manifest.write { db in try QuestionStore.save(original, in: db) }
        // Table → model: every field as saved.
        let stored = try #require(try source.manifest.read { db in try QuestionStore.accepted(in: db) }.first)
        #expect(stored == original)

        // Model → file → model: what the format carries.
        let file = tmp.path("model-\(format.rawValue)/q.jsonl")
        let report = try MCQFiles.export(format, to: file, origin: nil, split: nil, workspace: source)
        #expect(report.exported == 1 && report.images == 1 && report.imageProblems.isEmpty)
        var carried = original
        carried.keywordID = nil
        if format != .dsbuild { (carried.aspect, carried.rationale, carried.model, carried.templateSHA256) = (nil, nil, nil, nil) }
        // K-Viscuit and BUTTERFLY files name the image but not its hash: the import hashes the file beside them.
        var inFile = carried
        if format != .dsbuild { inFile.imageSHA256 = nil }
        let read = try QuestionFile.read(file)
        #expect(read.format == format)
        #expect(read.questions == [inFile])
        // The image beside the file is the stored one, byte for byte, under the name the question gave it.
        #expect(ContentHash.sha256Hex(try Data(contentsOf: file.deletingLastPathComponent().appendingPathComponent("images/gat.jpg"))) == sha)

        // File → another workspace's table: the same question, its keyword linked, its image stored.
        let (target, _) = try workspaceWithGat("model-dst-\(format.rawValue)")
        let imported = try MCQFiles.importFile(file, workspace: target)
        #expect(imported.imported == 1 && imported.withImage == 1 && imported.refused.isEmpty)
        let again = try #require(try target.manifest.read { db in try QuestionStore.accepted(in: db) }.first)
        var expected = carried
        expected.keywordID = try KeywordStore.all(in: target.manifest).first?.id
        #expect(again == expected)

        // Table → eval: the same question, asked with the stored image, in the one prompt.
        let asked = try EvalStore.questions(in: target, split: "test", origin: "generated")
        var withStorePath = expected
        let storedPath = try target.manifest.read { db in try String.fetchOne(db, sql: "SELECT path FROM images WHERE sha256 = ?", arguments: [sha]) }
        withStorePath.imagePath = try target.root.appendingPathComponent(#require(storedPath)).path
        #expect(asked == [withStorePath])
        var settings = EvalSettings(model: "m")
        settings.condition = .withImage
        let evaluator = Evaluator(chat: AnswersB(), settings: settings)
        let parts = try evaluator.request(for: asked[0]).messages.flatMap(\.parts)
        #expect(parts.contains { if case .image = $0 { true } else { false } })
        #expect(parts.contains { if case .text(let t) = $0 { t == QuestionVocabulary.prompt(question: original.question, options: original.options) } else { false } })
        let (result, _) = try await evaluator.run(asked, source: "t")
        #expect(result.overall.correct == 1 && result.errors == 0)
    }
}

/// A model that answers B to everything.
private struct AnswersB: ChatService {
    func complete(_ request: ChatRequest) async throws(ChatError) -> ChatResult {
        ChatResult(text: "B", usage: ChatUsage(), fromCache: false, requestKey: "k", finishReason: "stop", model: request.model, attempts: 1)
    }
}
