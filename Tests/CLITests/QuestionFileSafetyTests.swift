import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

/// A question file is untrusted input. Through the commands, on K-Viscuit's real file and images: its image paths
/// are read only inside the images folder and only when the bytes are an image (`eval --questions` sends nothing
/// else to the endpoint, `mcq --import` stores nothing else), a stored question is never rewritten by an import,
/// and `mcq --export` never replaces a file with an empty export.
@Suite(.serialized) struct QuestionFileSafetyTests {
    let tmp = TemporaryDirectory("dsbuild-qsafety")
    let cli = CommandRunner()

    /// Canary bytes that must never leave the machine nor reach a message.
    let canaryText = "CANARY-\(UUID().uuidString)-secret-line\nroot:x:0:0:canary:/root:/bin/sh\n"

    static func objects(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    static func write(_ objects: [[String: Any]], to url: URL) throws {
        let text = try objects.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) + "\n" }.joined()
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    /// The first K-Viscuit records whose image exists, distinct images.
    static func realRecords(_ n: Int) throws -> [[String: Any]] {
        var seen = Set<String>()
        return Array(try objects(TestPaths.kViscuitAnnotations).filter { o in
            guard let path = o["image_path"] as? String,
                  FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent(path).path) else { return false }
            return seen.insert(path).inserted
        }.prefix(n))
    }

    /// A folder `q/` holding `images/` with one real image (`ok.jpg`) and the attacks: a text file inside named like
    /// an image, symlinks to a canary text and to a real JPEG outside the folder; beside `q/`, the canary files.
    /// Returns K-Viscuit records (ids F-ok, F-dotdot, …) pointing at each, and the outside files' bytes.
    func hostileFolder() throws -> (file: URL, images: URL, records: [[String: Any]], outside: [Data]) {
        let q = tmp.path("q"), images = q.appendingPathComponent("images")
        try FileManager.default.createDirectory(at: images, withIntermediateDirectories: true)
        let real = try Self.realRecords(2)
        let okSource = TestPaths.kViscuitImages.appendingPathComponent(real[0]["image_path"] as! String)
        let outsideSource = TestPaths.kViscuitImages.appendingPathComponent(real[1]["image_path"] as! String)
        try FileManager.default.copyItem(at: okSource, to: images.appendingPathComponent("ok.jpg"))
        let secret = tmp.path("secret.txt"), outsideJPEG = tmp.path("outside.jpg")
        try canaryText.write(to: secret, atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(at: outsideSource, to: outsideJPEG)
        try FileManager.default.createSymbolicLink(atPath: images.appendingPathComponent("secret-link.jpg").path, withDestinationPath: secret.path)
        try FileManager.default.createSymbolicLink(atPath: images.appendingPathComponent("outside-link.jpg").path, withDestinationPath: "../../outside.jpg")
        try canaryText.write(to: images.appendingPathComponent("fake.jpg"), atomically: true, encoding: .utf8)
        let paths: [(String, String)] = [
            ("ok", "ok.jpg"), ("dotdot", "../../secret.txt"), ("absolute", secret.path), ("abs-jpeg", outsideJPEG.path),
            ("link", "secret-link.jpg"), ("link-jpeg", "outside-link.jpg"), ("fake", "fake.jpg"),
        ]
        let records = paths.enumerated().map { i, pair -> [String: Any] in
            var o = real[i % real.count]
            o["id_"] = "F-\(pair.0)"
            o["image_path"] = pair.1
            o["question"] = "\(o["question"] as! String) (\(pair.0))"
            return o
        }
        let file = q.appendingPathComponent("kv.jsonl")
        try Self.write(records, to: file)
        return (file, images, records, [Data(canaryText.utf8), try Data(contentsOf: outsideJPEG)])
    }

    /// The base64 a data URL would carry for the start of `data` (48 bytes: 3-aligned, so it is a prefix of the
    /// whole file's base64).
    static func base64Start(_ data: Data) -> String { data.prefix(48).base64EncodedString() }

    // MARK: F1 — eval --questions sends only images from inside the images folder

    @Test func evalQuestionsNeverSendsAFileFromOutsideTheImagesFolderNorANonImage() throws {
        let (file, _, records, outside) = try hostileFolder()
        let chat = FakeChatEndpoint { _ in .content("A") }
        let server = try chat.serve()
        let answers = tmp.path("answers.jsonl")
        let result = try cli.run(["eval", "--questions", file.path, "--condition", "with-image", "--model", "m",
                                  "--endpoint", server.url("/v1").absoluteString, "--answers", answers.path, "--json"])
        // Only the image inside the folder is asked; the 6 others are unaskable: scored wrong, exit status 1.
        #expect(result.status == 1, "\(result.stderr)")
        let json = try result.json()
        #expect(json["errors"] as? Int == records.count - 1)
        #expect((json["overall"] as? [String: Any])?["n"] as? Int == records.count)
        #expect(chat.requestCount == 1)
        let sent = try chat.bodies.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
        for data in outside {
            let mark = Self.base64Start(data)
            #expect(!sent.contains { $0.contains(mark) }, "an outside file reached the endpoint")
        }
        #expect(!sent.contains { $0.contains(Self.base64Start(Data(canaryText.utf8))) })
        // One line per refused question, naming it and the cause; never the file's bytes.
        let lines = result.stderr.split(separator: "\n").map(String.init)
        for (id, cause) in [("F-dotdot", "climbs out of the images folder"), ("F-absolute", "is an absolute path"),
                            ("F-abs-jpeg", "is an absolute path"), ("F-link", "outside the images folder"),
                            ("F-link-jpeg", "outside the images folder"), ("F-fake", "is not an image")] {
            #expect(lines.filter { $0.contains("question \(id):") && $0.contains(cause) }.count == 1, "\(id): \(result.stderr)")
        }
        #expect(!result.stderr.contains("CANARY"))
        let asked = try Self.objects(answers)
        #expect(asked.filter { $0["error"] is String }.count == records.count - 1)
        #expect(asked.contains { $0["id"] as? String == "F-ok" && !($0["error"] is String) && $0["correct"] != nil })
    }

    // MARK: F4 — mcq --import reads images only inside its images folder

    @Test func importKViscuitRefusesImagesFromOutsideTheFolderAndNonImages() throws {
        let (file, _, records, outside) = try hostileFolder()
        let ws = tmp.path("ws").path
        #expect(try cli.run(["init", ws]).status == 0)
        let imported = try cli.run(["mcq", "--workspace", ws, "--import-k-viscuit", file.path, "--json"])
        #expect(imported.status == 1, "\(imported.stderr)")
        let json = try imported.json()
        #expect(json["imported"] as? Int == 1)
        #expect(json["with_image"] as? Int == 1)
        #expect(json["refused"] as? Int == records.count - 1)
        let lines = imported.stderr.split(separator: "\n").map(String.init)
        #expect(lines.count == records.count - 1, "\(imported.stderr)")
        for id in ["F-dotdot", "F-absolute", "F-abs-jpeg", "F-link", "F-link-jpeg", "F-fake"] {
            #expect(lines.filter { $0.contains("question \(id) ") && $0.contains("refused") && $0.contains("not imported") }.count == 1)
        }
        #expect(!imported.stderr.contains("CANARY") && !imported.stderr.contains("root:x"))
        // The store holds the one image from inside the folder, none of the outside files.
        let stored = try Workspace.open(at: URL(fileURLWithPath: ws)).manifest.read { db in
            try String.fetchAll(db, sql: "SELECT sha256 FROM images")
        }
        #expect(stored.count == 1)
        for data in outside { #expect(!stored.contains(ContentHash.sha256Hex(data))) }
    }

    // MARK: F2 — mcq --import never rewrites a stored question

    /// A workspace holding K-Viscuit's questions, imported with their images.
    func importedWorkspace(_ name: String) throws -> String {
        let ws = tmp.path(name).path
        #expect(try cli.run(["init", ws]).status == 0)
        let imported = try cli.run(["mcq", "--workspace", ws, "--import-k-viscuit", TestPaths.kViscuitAnnotations.path,
                                    "--images", TestPaths.kViscuitImages.path, "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try imported.json()["imported"] as? Int == 657)
        return ws
    }

    func storedRows(_ ws: String) throws -> [String] {
        try Workspace.open(at: URL(fileURLWithPath: ws)).manifest.read { db in
            try String.fetchAll(db, sql: "SELECT id || '|' || question || '|' || options || '|' || answer || '|' || split || '|' || status FROM questions ORDER BY id")
        }
    }

    @Test func importOfAnEditedExportLeavesStoredQuestionsAsTheyAre() throws {
        let ws = try importedWorkspace("ws-edit")
        let export = tmp.path("exp/q.jsonl")
        let exported = try cli.run(["mcq", "--workspace", ws, "--export", export.path, "--format", "dsbuild", "--split", "test"])
        #expect(exported.status == 0, "\(exported.stderr)")
        let before = try storedRows(ws)
        let original = try Self.objects(export)
        #expect(original.count == 657)
        // Every answer moved one letter on, every question made train: the attack on stored answer keys.
        let edited = original.map { o -> [String: Any] in
            var o = o
            o["answer"] = ((o["answer"] as! Int) + 1) % (o["options"] as! [String]).count
            o["split"] = "train"
            return o
        }
        let newOne: [String: Any] = { var o = original[0]; o["id"] = "brand-new-1"; o["question"] = "A question not stored yet?"; return o }()
        let editedFile = tmp.path("exp/edited.jsonl")
        try Self.write(edited + [newOne], to: editedFile)
        let result = try cli.run(["mcq", "--workspace", ws, "--import", editedFile.path, "--json"])
        #expect(result.status == 1, "\(result.stderr)")
        let json = try result.json()
        #expect(json["refused"] as? Int == 657)
        #expect(json["imported"] as? Int == 1)  // the new id imports as before
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.contains("is stored with") }.count == 657)
        #expect(lines.filter { !$0.contains("is stored with") }.allSatisfy { $0.contains("not found; imported without its image") }, "\(lines.filter { !$0.contains("is stored with") })")
        let first = original[0], id = first["id"] as! String
        let letters = ["A", "B", "C", "D", "E", "F", "G", "H"], a = first["answer"] as! Int, n = (first["options"] as! [String]).count
        #expect(lines.contains("error: question \(id) is stored with answer \(letters[a]), split test; the file says \(letters[(a + 1) % n]), train: "
                               + "not imported (stored questions never change; import it under a new id)"), "\(lines.prefix(2))")
        let after = try storedRows(ws)
        #expect(after.filter { !$0.hasPrefix("brand-new-1|") } == before)
        // The unchanged export and the original file: every question already present, nothing refused, exit 0.
        let again = try cli.run(["mcq", "--workspace", ws, "--import", export.path, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try again.json()["already_present"] as? Int == 657)
        #expect(try again.json()["imported"] as? Int == 0)
        let kv = try cli.run(["mcq", "--workspace", ws, "--import-k-viscuit", TestPaths.kViscuitAnnotations.path,
                              "--images", TestPaths.kViscuitImages.path, "--json"])
        #expect(kv.status == 0, "\(kv.stderr)")
        #expect(try kv.json()["already_present"] as? Int == 657)
        #expect(try storedRows(ws) == after)
    }

    // MARK: F6 — mcq --export never replaces a file with an empty export

    @Test func exportWithAMistypedSplitOrAnOriginMatchingNothingLeavesTheFileAlone() throws {
        let ws = try importedWorkspace("ws-export")
        let export = tmp.path("exp/q.jsonl")
        #expect(try cli.run(["mcq", "--workspace", ws, "--export", export.path, "--split", "test"]).status == 0)
        let good = try Data(contentsOf: export)
        #expect(!good.isEmpty)
        let typo = try cli.run(["mcq", "--workspace", ws, "--export", export.path, "--split", "tset"])
        #expect(typo.status != 0)
        #expect(typo.stderr.contains("--split is train or test"), "\(typo.stderr)")
        #expect(try Data(contentsOf: export) == good)
        let nothing = try cli.run(["mcq", "--workspace", ws, "--export", export.path, "--origin", "no-such-origin"])
        #expect(nothing.status == 1, "\(nothing.stderr)")
        #expect(nothing.stderr.contains("no accepted questions") && nothing.stderr.contains("left as it is"), "\(nothing.stderr)")
        #expect(try Data(contentsOf: export) == good)
        // K-Viscuit's questions are all test: a train export selects none and does not overwrite either.
        let train = try cli.run(["mcq", "--workspace", ws, "--export", export.path, "--split", "train"])
        #expect(train.status == 1)
        #expect(try Data(contentsOf: export) == good)
    }
}
