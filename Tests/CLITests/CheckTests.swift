import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

/// `dsbuild check` over a workspace built through the commands (init → collect from a folder of real K-Viscuit
/// images → filter → describe → mcq → shards, with the loopback chat fake), then over copies of it with one
/// violation planted each.
///
/// The clean workspace passes every check, and each planted workspace reports exactly the planted check, with
/// its item named.
@Suite(.serialized) struct CheckTests {

    static let allChecks = ["shards_intact", "answer_keys_stable", "split_disjoint", "askable", "text_only_no_image_refs",
                            "orientation_applied", "one_image_format", "letter_balance", "provenance_complete", "exports_roundtrip",
                            "relevance_confusions", "judgements_applied"]

    // MARK: The clean workspace, built once

    final class Clean: @unchecked Sendable {
        let tmp = TemporaryDirectory.shared("dsbuild-check")
        let cli = CommandRunner()
        var workspace: URL { tmp.path("ws") }
        var recipe: URL { tmp.path("recipe.yaml") }

        nonisolated(unsafe) static var shared: Clean?
        static let lock = NSLock()

        static func get() throws -> Clean {
            lock.lock()
            defer { lock.unlock() }
            if let shared { return shared }
            let clean = try Clean()
            shared = clean
            return clean
        }

        private init() throws {
            try buildPhotos()
            let chat = FakeChatEndpoint(responder: PipelineChatResponder.respond)
            let server = try chat.serve()
            defer { server.stop() }
            let env = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-check-test"])
            let ws = workspace.path
            for arguments in [["init", ws, "--keywords", tmp.path("keywords.csv").path, "--recipe", recipe.path, "--quiet"],
                              ["collect", "--workspace", ws, "--sources", "directory", "--source-file", tmp.path("photos").path, "--quiet"],
                              ["filter", "--workspace", ws, "--quiet"],
                              ["describe", "--workspace", ws, "--quiet"],
                              ["mcq", "--workspace", ws, "--quiet"]] {
                let result = try env.run(arguments)
                guard result.status == 0 else { throw Failure("\(arguments[0]) exited \(result.status): \(result.stderr)") }
            }
            let shards = try env.run(["shards", "--workspace", ws, "--quiet"])
            guard shards.status == 0 else { throw Failure("shards exited \(shards.status): \(shards.stderr)") }
        }

        /// `photos/<keyword>/<n>.jpg` with an img2dataset-style sidecar each: 12 keywords of one category, two or
        /// three real images each (the keyword's own and other K-Viscuit images).
        private func buildPhotos() throws {
            let items = try KViscuitFixture.type1Items().filter {
                !$0.keyword.contains("/") && FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
            }
            var byCategory: [String: [KViscuitFixture.Item]] = [:]
            var seen = Set<String>()
            for item in items where seen.insert(item.keyword).inserted { byCategory[item.category, default: []].append(item) }
            let category = byCategory.max { $0.value.count < $1.value.count }!.key
            let chosen = Array(byCategory[category]!.prefix(12))
            let chosenImages = Set(chosen.map(\.imagePath))
            var spare = items.filter { !chosenImages.contains($0.imagePath) }.makeIterator()
            var csv = "keyword,category\n"
            let photos = try PhotoFolder(root: tmp.path("photos"))
            for (i, item) in chosen.enumerated() {
                csv += "\"\(item.keyword.replacingOccurrences(of: "\"", with: "\"\""))\",\(category.lowercased())\n"
                var images = [item]
                for _ in 0..<(i % 3 == 0 ? 2 : 1) { if let extra = spare.next() { images.append(extra) } }
                for image in images { try photos.add(image, keyword: item.keyword) }
            }
            try csv.write(to: tmp.path("keywords.csv"), atomically: true, encoding: .utf8)
            try """
                name: check
                llm:
                  model: fake-model
                  concurrency: 4
                filter:
                  min_short_side: 100
                  aspect_ratio: [0.3, 3.0]
                describe:
                  aspects: [visual]
                  modes: [text-only, image-grounded]
                  languages: [en]
                  concurrency: 4
                mcq:
                  types: [1, 2]
                  split_by: image
                  test_fraction: 0.25
                  seed: 7
                  concurrency: 4
                shards:
                  out: shards
                  shard_size: 8
                  exports: [llava, llama-factory, openai, mcq]
                """.write(to: recipe, atomically: true, encoding: .utf8)
        }

        /// A fresh copy of the clean workspace to plant a violation in.
        func copy() throws -> URL {
            let target = tmp.path("planted-\(UUID().uuidString.prefix(8))")
            try FileManager.default.copyItem(at: workspace, to: target)
            return target
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// The violation lines of `dsbuild check`'s text output (`check_name: item: message`).
    static func violationLines(_ stdout: String) -> [String] {
        stdout.split(separator: "\n").map(String.init).filter { line in
            allChecks.contains { line.hasPrefix($0 + ": ") }
        }
    }

    /// Runs check on a planted copy; the planted check must name `item`, and nothing else may be reported.
    @discardableResult
    func expectOnly(_ check: String, naming item: String, in ws: URL, _ clean: Clean,
                    sourceLocation: SourceLocation = #_sourceLocation) throws -> [String] {
        let result = try clean.cli.run(["check", "--workspace", ws.path])
        #expect(result.status == 1, "check exited \(result.status): \(result.stderr)", sourceLocation: sourceLocation)
        let lines = Self.violationLines(result.stdout)
        let planted = lines.filter { $0.hasPrefix(check + ": ") && $0.contains(item) }
        #expect(!planted.isEmpty, "no \(check) line names \(item); got:\n\(lines.prefix(40).joined(separator: "\n"))",
                sourceLocation: sourceLocation)
        let others = lines.filter { !$0.hasPrefix(check + ": ") }
        #expect(others.isEmpty, "besides \(check), check reported:\n\(others.prefix(20).joined(separator: "\n"))",
                sourceLocation: sourceLocation)
        return planted
    }

    // MARK: Reading and editing what the commands wrote

    static func split(_ ws: URL) throws -> SplitMap {
        try Workspace.open(at: ws).manifest.read { db in try SplitMap.load(in: db) }
    }

    static func shardsDir(_ ws: URL) -> URL { ws.appendingPathComponent("shards") }

    /// The first upright test image of the workspace (sha256, store path).
    static func uprightTestImage(_ ws: URL) throws -> (sha: String, path: String) {
        try Workspace.open(at: ws).manifest.read { db -> (String, String) in
            let map = try SplitMap.load(in: db)
            let row = try #require(try Row.fetchOne(db, sql: """
                SELECT sha256, path FROM images WHERE COALESCE(orientation, 1) = 1 AND sha256 IN (\(map.testImages.map { "'\($0)'" }.joined(separator: ",")))
                ORDER BY sha256 LIMIT 1
                """), "no upright test image")
            return (row["sha256"], row["path"])
        }
    }

    /// A caption sample whose image is a training image: the template for planted samples.
    static func trainCaption(_ ws: URL) throws -> (tar: URL, json: [String: Any], imageMember: String, image: Data) {
        let split = try split(ws)
        let paired = shardsDir(ws).appendingPathComponent("paired")
        for name in try FileManager.default.contentsOfDirectory(atPath: paired.path).sorted() where name.hasSuffix(".tar") {
            let url = paired.appendingPathComponent(name)
            let members = Tar.members(try Data(contentsOf: url))
            for member in members where member.name.hasSuffix(".json") {
                guard let json = try JSONSerialization.jsonObject(with: member.contents) as? [String: Any],
                      json["kind"] as? String == "caption", let sha = json["image_sha256"] as? String, !split.testImages.contains(sha),
                      let image = members.first(where: { $0.name.hasPrefix(String(member.name.dropLast(5)) + ".") && !$0.name.hasSuffix(".json") && !$0.name.hasSuffix(".txt") })
                else { continue }
                return (url, json, image.name, image.contents)
            }
        }
        throw Failure("no caption sample of a training image in \(paired.path)")
    }

    /// Appends one sample (image, json, txt) to a tar and fixes `shards.json`.
    static func appendSample(_ tar: URL, key: String, imageExtension: String, image: Data, json: [String: Any], ws: URL) throws {
        var members = Tar.members(try Data(contentsOf: tar))
        var object = json
        object["key"] = key
        // The bytes it records are the planted ones (what a careful forger writes; shards_intact checks them).
        if object["written_sha256"] != nil { object["written_sha256"] = ContentHash.sha256Hex(image) }
        members.append((name: "\(key).\(imageExtension)", contents: image))
        members.append((name: "\(key).json", contents: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])))
        members.append((name: "\(key).txt", contents: Data("planted".utf8)))
        try Tar.build(members).write(to: tar)
        try reindex(ws)
    }

    /// Rewrites `shards.json` so that it records the shard files as they now are (what a careful forger does).
    static func reindex(_ ws: URL) throws {
        let root = shardsDir(ws)
        let url = root.appendingPathComponent("shards.json")
        var index = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        var counts = index["counts"] as? [String: Any] ?? [:]
        var shas: [String] = []
        for kind in ["text", "paired"] {
            var total = 0
            let entries = (index[kind] as? [[String: Any]] ?? []).map { entry -> [String: Any] in
                var entry = entry
                let file = root.appendingPathComponent(entry["file"] as! String)
                let data = (try? Data(contentsOf: file)) ?? Data()
                entry["bytes"] = data.count
                entry["sha256"] = ContentHash.sha256Hex(data)
                let samples = kind == "paired" ? Set(Tar.members(data).map { $0.name.split(separator: ".")[0] }).count
                    : data.split(separator: 0x0A).count
                entry["samples"] = samples
                total += samples
                shas.append(entry["sha256"] as! String)
                return entry
            }
            index[kind] = entries
            counts[kind] = total
        }
        index["counts"] = counts
        index["fingerprint"] = ContentHash.sha256Hex(shas.sorted().joined())
        try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]).write(to: url)
    }

    /// The JPEG without its EXIF APP1 segments (so a planted one is the only orientation it has).
    static func withoutEXIF(_ jpeg: Data) -> Data {
        let b = [UInt8](jpeg)
        var out = Array(b[0..<2])
        var i = 2
        while i + 4 <= b.count, b[i] == 0xFF, b[i + 1] != 0xDA {
            let length: Int = Int(b[i + 2]) * 256 + Int(b[i + 3])
            let end: Int = min(b.count, i + 2 + length)
            let signature: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0, 0]  // "Exif\0\0"
            let isEXIF: Bool = b[i + 1] == 0xE1 && end - i > 10 && Array(b[(i + 4)..<(i + 10)]) == signature
            if !isEXIF { out += b[i..<end] }
            i = end
        }
        out += b[i...]
        return Data(out)
    }

    // MARK: Tests

    @Test func cleanWorkspaceGivesOneResultPerCheckAndAnExitStatusThatSaysWhetherAllPassed() throws {
        let clean = try Clean.get()
        let started = Date()
        let result = try clean.cli.run(["check", "--workspace", clean.workspace.path, "--json"])
        let seconds = Date().timeIntervalSince(started)
        let json = try result.json()
        let checks = try #require(json["checks"] as? [String: [String: Any]])
        #expect(Set(checks.keys) == Set(Self.allChecks))
        for (name, entry) in checks {
            let violations = try #require(entry["violations"] as? Int, "\(name)")
            #expect((entry["ok"] as? Bool) == (violations == 0), "\(name)")
            #expect((entry["examples"] as? [String])?.count == min(violations, 20), "\(name)")
        }
        let ok = try #require(json["ok"] as? Bool)
        #expect(ok == checks.values.allSatisfy { $0["ok"] as? Bool == true })
        #expect(result.status == (ok ? 0 : 1))
        for name in Self.allChecks {
            #expect(checks[name]?["ok"] as? Bool == true, "\(name): \(checks[name]?["examples"] ?? [])")
        }
        #expect(ok)
        print("check on the clean workspace: \(String(format: "%.2f", seconds)) s")
    }

    @Test func aQuestionWhoseOptionsChangedAfterShardsIsReportedByAnswerKeysStable() throws {
        let clean = try Clean.get()
        let ws = try clean.copy()
        let id = try Workspace.open(at: ws).manifest.write { db -> String in
            let row = try #require(try Row.fetchOne(db, sql: """
                SELECT id, options, answer FROM questions WHERE status = 'accepted' AND split = 'train' AND type = 2 ORDER BY id LIMIT 1
                """))
            var options = try JSONSerialization.jsonObject(with: Data((row["options"] as String).utf8)) as! [String]
            let answer: Int = row["answer"]
            let others = options.indices.filter { $0 != answer }
            options.swapAt(others[0], others[1])  // the letter of the answer stays: only this question's key moves
            try db.execute(sql: "UPDATE questions SET options = ? WHERE id = ?", arguments: [JSONText.encodeObject(options), row["id"] as String])
            return row["id"]
        }
        let lines = try expectOnly("answer_keys_stable", naming: "question \(id) in shards/text/", in: ws, clean)
        #expect(lines.allSatisfy { $0.contains("question \(id)") })
    }

    /// A verdict the shards were written without: the verifier disputed a training question that is still accepted
    /// (and in the text shards), and an imported test question's copy sits in the question file.
    @Test func aDisputedQuestionLeftInTheShardsIsReportedByJudgementsApplied() throws {
        let clean = try Clean.get()
        let ws = try clean.copy()
        let id = try Workspace.open(at: ws).manifest.write { db -> String in
            let row = try #require(try Row.fetchOne(db, sql: """
                SELECT id, keyword_id, question, options, answer FROM questions
                 WHERE status = 'accepted' AND split = 'train' AND type = 2 ORDER BY id LIMIT 1
                """))
            let options = JSONText.decode([String].self, from: row["options"] as String) ?? []
            try JudgementRow(judge: .answerKey, subject: row["id"],
                             subjectSHA256: JudgementRow.fingerprint(question: row["question"], options: options, answer: row["answer"]),
                             keywordID: row["keyword_id"], imageSHA256: "", settingsHash: "h", model: "verifier", verdict: .disputed,
                             answer: "D", reason: "the description says otherwise", detail: ["dispute": "wrong_key"], requestKey: "k").insert(db)
            return row["id"]
        }
        let lines = try expectOnly("judgements_applied", naming: "question \(id)", in: ws, clean)
        #expect(lines.contains { $0.contains("is a training question though the answer-key verifier (verifier) answered D") })
        #expect(lines.contains { $0.contains("shards/text/") && $0.contains("carries question \(id)") }, "\(lines)")
        // With mcq.keep_disputed, the same workspace passes.
        let recipe = try String(contentsOf: clean.recipe, encoding: .utf8).replacingOccurrences(of: "mcq:\n", with: "mcq:\n  keep_disputed: true\n")
        try recipe.write(to: ws.appendingPathComponent("recipe.yaml"), atomically: true, encoding: .utf8)
        let kept = try clean.cli.run(["check", "--workspace", ws.path, "--json"])
        #expect(kept.status == 0, "\(kept.stdout.prefix(2000))")
        let judgements = try #require(try kept.json()["judgements"] as? [String: Any])
        #expect(judgements["questions_disputed_kept"] as? Int == 1)
    }

    /// A description rejected as unfaithful after the shards were written is still in them.
    @Test func anUnfaithfulDescriptionLeftInTheShardsIsReportedByJudgementsApplied() throws {
        let clean = try Clean.get()
        let ws = try clean.copy()
        let id = try Workspace.open(at: ws).manifest.write { db -> Int64 in
            // A text-only description of a keyword that keeps another accepted one (so every question stays askable).
            let id = try #require(try Int64.fetchOne(db, sql: """
                SELECT d.id FROM descriptions d WHERE d.status = 'accepted' AND d.mode = 'text-only'
                   AND (SELECT COUNT(*) FROM descriptions o WHERE o.keyword_id = d.keyword_id AND o.status = 'accepted') > 1
                   AND d.keyword_id NOT IN (SELECT keyword_id FROM splits WHERE image_sha256 = '' AND split = 'test')
                 ORDER BY d.id LIMIT 1
                """))
            try db.execute(sql: "UPDATE descriptions SET status = 'rejected', reason = 'unfaithful', detail = 'claims' WHERE id = ?", arguments: [id])
            return id
        }
        let lines = try expectOnly("judgements_applied", naming: "description \(id) ", in: ws, clean)
        #expect(lines.allSatisfy { $0.contains("was rejected as unfaithful") && $0.contains("shards/") }, "\(lines)")
    }

    @Test func aTestImageAppendedToAPairedTarIsReportedBySplitDisjoint() throws {
        let clean = try Clean.get()
        let ws = try clean.copy()
        let (sha, path) = try Self.uprightTestImage(ws)
        let template = try Self.trainCaption(ws)
        var json = template.json
        json["image_sha256"] = sha
        try Self.appendSample(template.tar, key: "p-plantedtestimage", imageExtension: "jpg",
                              image: try Data(contentsOf: ws.appendingPathComponent(path)), json: json, ws: ws)
        let lines = try expectOnly("split_disjoint", naming: "member p-plantedtestimage.jpg", in: ws, clean)
        #expect(lines.contains { $0.contains(sha) })
    }

    /// A near copy of a test image — same pixels, other bytes (a JPEG comment added), its json naming no stored
    /// image — appended to a paired tar: found by its pHash, not by its sha.
    @Test func aNearCopyOfATestImageAppendedToAPairedTarIsReportedBySplitDisjoint() throws {
        let clean = try Clean.get()
        let ws = try clean.copy()
        let (sha, path) = try Self.uprightTestImage(ws)
        let copy = ImageFactory.insertAfterSOI(try Data(contentsOf: ws.appendingPathComponent(path)),
                                               [ImageFactory.jpegSegment(0xFE, ImageFactory.ascii("not the stored bytes"))])
        try #require(ContentHash.sha256Hex(copy) != sha)
        let template = try Self.trainCaption(ws)
        var json = template.json
        json.removeValue(forKey: "image_sha256")
        try Self.appendSample(template.tar, key: "p-plantednearcopy", imageExtension: "jpg", image: copy, json: json, ws: ws)
        let lines = try expectOnly("split_disjoint", naming: "member p-plantednearcopy.jpg", in: ws, clean)
        #expect(lines.contains { $0.contains("within pHash distance 0 of test image \(sha)") }, "\(lines)")
    }

    @Test func aTestQuestionWhoseImageIsGoneIsReportedByAskable() throws {
        let clean = try Clean.get()
        let ws = try clean.copy()
        let (id, path) = try Workspace.open(at: ws).manifest.read { db -> (String, String) in
            let row = try #require(try Row.fetchOne(db, sql: """
                SELECT q.id, i.path FROM questions q JOIN images i ON i.sha256 = q.image_sha256
                 WHERE q.status = 'accepted' AND q.split = 'test' ORDER BY q.id LIMIT 1
                """), "no test question with an image")
            return (row["id"], row["path"])
        }
        try FileManager.default.removeItem(at: ws.appendingPathComponent(path))
        let lines = try expectOnly("askable", naming: "question \(id)", in: ws, clean)
        #expect(lines.contains { $0.contains("question \(id)") && $0.contains("with-image") })
    }

    @Test func anImageTokenInATextRecordIsReportedByTextOnlyNoImageRefs() throws {
        let clean = try Clean.get()
        let ws = try clean.copy()
        let file = Self.shardsDir(ws).appendingPathComponent("text/00000.jsonl")
        var lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
        let index = try #require(lines.firstIndex { line in
            let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return o?["kind"] as? String == "description" && (o?["provenance"] as? [String: Any])?["mode"] as? String == "text-only"
        }, "no text-only description record in \(file.path)")
        var object = try JSONSerialization.jsonObject(with: Data(lines[index].utf8)) as! [String: Any]
        var messages = object["messages"] as! [[String: Any]]
        messages[0]["content"] = "<image>\n" + (messages[0]["content"] as! String)
        object["messages"] = messages
        let id = object["id"] as! String
        lines[index] = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        try Self.reindex(ws)
        try expectOnly("text_only_no_image_refs", naming: "shards/text/00000.jsonl record \(id)", in: ws, clean)
    }

    @Test func aRotatedJPEGInAPairedTarIsReportedByOrientationApplied() throws {
        let clean = try Clean.get()
        let ws = try clean.copy()
        let template = try Self.trainCaption(ws)
        let rotated = ImageFactory.insertAfterSOI(Self.withoutEXIF(template.image), [ImageFactory.exifAPP1(orientation: 6)])
        try Self.appendSample(template.tar, key: "p-plantedrotated", imageExtension: "jpg", image: rotated, json: template.json, ws: ws)
        let lines = try expectOnly("orientation_applied", naming: "member p-plantedrotated.jpg", in: ws, clean)
        #expect(lines.contains { $0.contains("orientation 6") })
    }

    @Test func aPNGMemberAmongJPEGsIsReportedByOneImageFormat() throws {
        let clean = try Clean.get()
        let ws = try clean.copy()
        let template = try Self.trainCaption(ws)
        try Self.appendSample(template.tar, key: "p-plantedpng", imageExtension: "png",
                              image: ImageFactory.pngHeader(width: 640, height: 480), json: template.json, ws: ws)
        try expectOnly("one_image_format", naming: "member p-plantedpng.png", in: ws, clean)
    }

    @Test func answersAllMovedToOneLetterAreReportedByLetterBalance() throws {
        let clean = try Clean.get()
        let ws = try clean.copy()
        let (split, type) = try Workspace.open(at: ws).manifest.write { db -> (String, Int) in
            let group = try #require(try Row.fetchOne(db, sql: """
                SELECT split, type FROM questions WHERE status = 'accepted' AND origin = 'generated'
                 GROUP BY split, type ORDER BY COUNT(*) DESC, split, type LIMIT 1
                """))
            let (split, type): (String, Int) = (group["split"], group["type"])
            for row in try Row.fetchAll(db, sql: "SELECT id, options, answer FROM questions WHERE status = 'accepted' AND origin = 'generated' AND split = ? AND type = ?",
                                        arguments: [split, type]) {
                var options = try JSONSerialization.jsonObject(with: Data((row["options"] as String).utf8)) as! [String]
                let answer = options.remove(at: row["answer"])
                options.insert(answer, at: 0)
                try db.execute(sql: "UPDATE questions SET options = ?, answer = 0 WHERE id = ?", arguments: [JSONText.encodeObject(options), row["id"] as String])
            }
            return (split, type)
        }
        // The shards are written again from the flipped rows, so only the balance is wrong.
        let shards = try clean.cli.run(["shards", "--workspace", ws.path, "--quiet"])
        #expect(shards.status == 0, "\(shards.stderr)")
        let lines = try expectOnly("letter_balance", naming: "split \(split), type \(type)", in: ws, clean)
        #expect(lines.contains { $0.contains("A ") && $0.contains("B 0") })
    }

    @Test func aPairedSampleWithoutAnAuthorIsReportedByProvenanceCompleteAndFailsRun() throws {
        let clean = try Clean.get()
        let ws = try clean.copy()
        let template = try Self.trainCaption(ws)
        let key = String(template.imageMember.split(separator: ".")[0])
        let members = Tar.members(try Data(contentsOf: template.tar)).map { member -> (name: String, contents: Data) in
            guard member.name == "\(key).json" else { return member }
            var json = template.json
            var provenance = json["provenance"] as! [String: Any]
            provenance.removeValue(forKey: "author")
            json["provenance"] = provenance
            return (member.name, try! JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes]))
        }
        try Tar.build(members).write(to: template.tar)
        try Self.reindex(ws)
        let lines = try expectOnly("provenance_complete", naming: "member \(template.imageMember)", in: ws, clean)
        #expect(lines.contains { $0.contains("author") })

        // `dsbuild run` ends with the check: a violation fails the run and shows in its table.
        let run = try clean.cli.run(["run", clean.recipe.path, "--workspace", ws.path, "--from", "check", "--json"])
        #expect(run.status == 1, "\(run.stderr)")
        let summary = try run.json()
        let stages = try #require(summary["stages"] as? [[String: Any]])
        #expect(stages.map { $0["stage"] as? String } == ["check"])
        #expect(stages.first?["status"] as? String == "failures")
        #expect(((stages.first?["failed"] as? [String: Int])?["provenance_complete"] ?? 0) >= 1)
        #expect((summary["check"] as? [String: Any])?["ok"] as? Bool == false)
        #expect(run.stderr.contains("provenance_complete: shards/paired/"))
    }

    @Test func aQuestionFileThatNoLongerReadsBackIsReportedByExportsRoundtrip() throws {
        let clean = try Clean.get()
        let ws = try clean.copy()
        let file = Self.shardsDir(ws).appendingPathComponent("exports/mcq_test/mcq_test.jsonl")
        var lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n").map(String.init)
        var first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as! [String: Any]
        first.removeValue(forKey: "answer")
        lines[0] = String(decoding: try JSONSerialization.data(withJSONObject: first, options: [.sortedKeys]), as: UTF8.self)
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let found = try expectOnly("exports_roundtrip", naming: "shards/exports/mcq_test/mcq_test.jsonl", in: ws, clean)
        #expect(found.contains { $0.contains(":1: no `answer` field") })
    }

    @Test func aShardThatNoLongerMatchesItsIndexIsReportedByShardsIntact() throws {
        let clean = try Clean.get()
        let ws = try clean.copy()
        let url = Self.shardsDir(ws).appendingPathComponent("shards.json")
        var index = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        var text = index["text"] as! [[String: Any]]
        text[0]["sha256"] = String(repeating: "0", count: 64)
        index["text"] = text
        let shas = ((index["text"] as! [[String: Any]]) + (index["paired"] as? [[String: Any]] ?? [])).map { $0["sha256"] as! String }
        index["fingerprint"] = ContentHash.sha256Hex(shas.sorted().joined())
        try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys, .prettyPrinted]).write(to: url)
        try expectOnly("shards_intact", naming: "shards/text/00000.jsonl", in: ws, clean)
    }
}

/// A minimal ustar reader and writer for editing shards in tests.
enum Tar {
    static func members(_ data: Data) -> [(name: String, contents: Data)] {
        let bytes = [UInt8](data)
        var out: [(String, Data)] = []
        var offset = 0
        while offset + 512 <= bytes.count {
            let header = bytes[offset..<offset + 512]
            if header.allSatisfy({ $0 == 0 }) { break }
            let name = String(decoding: header.prefix(100).prefix { $0 != 0 }, as: UTF8.self)
            let sizeField = String(decoding: bytes[offset + 124..<offset + 136].prefix { $0 != 0 && $0 != 0x20 }, as: UTF8.self)
            let size = Int(sizeField, radix: 8) ?? 0
            out.append((name, Data(bytes[offset + 512..<offset + 512 + size])))
            offset += 512 + (size + 511) / 512 * 512
        }
        return out
    }

    static func build(_ members: [(name: String, contents: Data)]) -> Data {
        var data = Data()
        for (name, contents) in members {
            var header = [UInt8](repeating: 0, count: 512)
            func put(_ text: String, _ offset: Int) { for (i, b) in text.utf8.enumerated() { header[offset + i] = b } }
            func octal(_ value: Int, _ width: Int) -> String {
                let digits = String(value, radix: 8)
                return String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
            }
            put(name, 0)
            put(octal(0o644, 8), 100); put(octal(0, 8), 108); put(octal(0, 8), 116)
            put(octal(contents.count, 12), 124); put(octal(0, 12), 136)
            put("        ", 148)
            header[156] = UInt8(ascii: "0")
            put("ustar", 257); put("00", 263)
            let checksum = header.reduce(0) { $0 + Int($1) }
            put(octal(checksum, 7), 148)  // six digits, NUL, space
            header[154] = 0
            header[155] = 0x20
            data.append(contentsOf: header)
            data.append(contents)
            data.append(contentsOf: [UInt8](repeating: 0, count: (512 - contents.count % 512) % 512))
        }
        data.append(contentsOf: [UInt8](repeating: 0, count: 1024))
        return data
    }
}
