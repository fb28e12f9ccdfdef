import Dataset
import Foundation
import GRDB
import Testing
import Yams
import _DSBuildTestSupport

/// `dsbuild publish` against the adversarial report's inputs, end to end through the commands: sidecars whose
/// licence spells its restrictions in unusual ways or whose licence URL carries YAML, a keyword language that is
/// YAML, a category and a citation that hold card markers, the same bytes under two licences, hostile author and
/// page text; then release folders that are not releases, a truncated parquet, an interpreter that writes nothing,
/// a store file changed in place, a held folder lock. One image per keyword, so nothing is held out: the `mcq`
/// test split has no row (a 0-row parquet would break the readers).
@Suite("publish attacks", .serialized, .enabled(if: ProcessInfo.processInfo.environment["DSBUILD_TRAINER_PYTHON"] != nil))
struct PublishAttackTests {
    static let injectedURL = "https://creativecommons.org/licenses/by/4.0\nlicense: mit\nx_injected: yes/"
    static let injectedLanguage = "en\nlicense: mit\nx-injected: true"
    static let hostileAuthor = "=HYPERLINK(\"http://evil.example\",\"click\") | <img src=x onerror=alert(1)>\nline2\r<!-- dsbuild:end licenses -->"
    /// A category that tries to close the card's region and start YAML. (One with a line break is refused at `init`,
    /// by line: `KeywordText.problem(field:)`.)
    static let hostileCategory = "games <!-- dsbuild:end categories --> | --- license: mit"

    @Test func hostileInputsNeverBreakTheCardTheLicencesOrTheFolder() throws {
        let tmp = TemporaryDirectory("dsbuild-publish-attack")
        let python = ProcessInfo.processInfo.environment["DSBUILD_TRAINER_PYTHON"]!
        let items = try KViscuitFixture.type1Items().filter {
            $0.imagePath.hasSuffix(".jpg") && FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
        }
        var seen = Set<String>()
        var pictures = items.filter { seen.insert($0.imagePath).inserted }.makeIterator()
        func next() throws -> (name: String, data: Data) {
            let picked = pictures.next()
            let item = try #require(picked)
            return (item.imagePath, try Data(contentsOf: TestPaths.kViscuitImages.appendingPathComponent(item.imagePath)))
        }
        let photos = tmp.path("photos")
        var shas: [String: String] = [:]  // keyword → stored hash
        func add(_ keyword: String, _ picture: (name: String, data: Data), _ sidecar: [String: String]) throws {
            let folder = photos.appendingPathComponent(keyword)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try picture.data.write(to: folder.appendingPathComponent(picture.name))
            try JSONSerialization.data(withJSONObject: sidecar, options: [.sortedKeys])
                .write(to: folder.appendingPathComponent((picture.name as NSString).deletingPathExtension + ".json"))
            shas[keyword] = ContentHash.sha256Hex(picture.data)
        }
        func page(_ n: Int) -> String { "https://commons.wikimedia.org/wiki/File:attack-\(n).jpg" }
        try add("Bungeo-ppang", try next(), ["license": "CC BY NC ND 4.0", "author": "A", "page_url": page(1)])
        try add("Hanbok", try next(), ["license": "CC BY 4.0", "license_url": Self.injectedURL, "author": "B", "page_url": page(2)])
        try add("Hanok", try next(), ["license": "CC BY 2.0", "author": "C", "page_url": page(3)])
        try add("Gat", try next(), ["license": "CC BY (non-commercial use only)", "author": "D", "page_url": page(4)])
        let shared = try next()
        try add("Kimchi", shared, ["license": "CC BY 4.0", "author": "Alice", "page_url": page(5)])
        try add("Kimchi mold", shared, ["license": "CC BY-NC-ND 4.0", "author": "Bob", "page_url": page(6)])
        try add("Tteok", try next(), ["license": "CC BY 4.0", "license_url": "https://creativecommons.org/licenses/by-nc/4.0/", "author": "F", "page_url": page(7)])
        try add("Yut", try next(), ["license": "CC BY 4.0", "license_url": "https://creativecommons.org/licenses/by/4.0/", "author": Self.hostileAuthor,
                                     "page_url": "javascript:alert(1)//)\n| x"])
        func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        var csv = "keyword,category,language\r\n"
        for (keyword, category, language) in [("Bungeo-ppang", "food", "ko"), ("Hanbok", "clothing", Self.injectedLanguage), ("Hanok", "architecture", "en"),
                                              ("Gat", "clothing", "en"), ("Kimchi", "food", "en"), ("Kimchi mold", "food", "en"), ("Tteok", "food", "en"),
                                              ("Yut", Self.hostileCategory, "en")] {
            csv += [keyword, category, language].map(quoted).joined(separator: ",") + "\r\n"
        }
        try csv.write(to: tmp.path("keywords.csv"), atomically: true, encoding: .utf8)
        let citation = "@misc{attack,\n  note = {``` and <!-- dsbuild:end citation --> and <!-- dsbuild:begin title -->}\n}"
        try """
            name: publish-attack
            keywords: keywords.csv
            contact: https://example.org/dsbuild-tests
            llm:
              model: fake-model
              concurrency: 4
              image_max_side: 256
            collect:
              per_keyword: 5
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
            publish:
              citation: \(String(reflecting: citation))

            """.write(to: tmp.path("recipe.yaml"), atomically: true, encoding: .utf8)

        let chat = FakeChatEndpoint(responder: PipelineChatResponder.respondAsAModel)
        let server = try chat.serve()
        defer { server.stop() }
        let cli = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-attack-0123456789"])
        let ws = tmp.path("ws")
        @discardableResult
        func run(_ arguments: [String], expect status: Int32? = 0) throws -> CommandRunner.Result {
            let result = try cli.run(arguments + ["--workspace", ws.path])
            if let status { #expect(result.status == status, "dsbuild \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr.suffix(3000))") }
            return result
        }
        func publish(_ out: URL, _ extra: [String] = [], expect status: Int32? = 0) throws -> (CommandRunner.Result, [String: Any]) {
            let result = try run(["publish", "--out", out.path, "--python", python, "--json"] + extra, expect: status)
            return (result, (try? result.json()) ?? [:])
        }
        let initResult = try cli.run(["init", ws.path, "--recipe", tmp.path("recipe.yaml").path, "--quiet"])
        #expect(initResult.status == 0, "\(initResult.stderr)")
        for command in ["collect", "filter", "describe", "mcq", "shards"] { try run([command, "--quiet"]) }
        #expect(shas.count == 8)

        // A release for non-commercial use.
        let pubA = tmp.path("pubA")
        let (resultA, a) = try publish(pubA)
        // The real readers load the release (the mcq test split has no row); a failure is recorded and the rest checked.
        let seenA = try PublishTests.read(pubA)
        #expect(Set(seenA?.hf["config_names"] as? [String] ?? []) == ["paired", "text", "mcq"])
        #expect(seenA?.rows("mcq", "test") == -1, "an empty split is not a split of the release")
        #expect(a["rows"].flatMap { ($0 as? [String: Int])?["mcq/test"] } == 0, "\(a)")
        #expect(!FileManager.default.fileExists(atPath: pubA.appendingPathComponent("mcq/test-00000.parquet").path))

        // Finding 1, 2, 11: the front matter is YAML with exactly dsbuild's keys; the language that is no code is named once.
        let card = try String(contentsOf: pubA.appendingPathComponent("README.md"), encoding: .utf8)
        let front = String(card.dropFirst(4)).components(separatedBy: "\n---\n").first ?? ""
        let yaml = (try? Yams.load(yaml: front) as? [String: Any]) ?? [:]
        #expect(Set(yaml.keys) == ["pretty_name", "license", "license_name", "license_link", "language", "task_categories", "size_categories", "configs"], "\(yaml.keys)")
        #expect(yaml["license"] as? String == "other" && yaml["language"] as? [String] == ["en", "ko"], "\(yaml)")
        #expect(resultA.stderr.components(separatedBy: "is not a language code").count == 2, "\(resultA.stderr)")
        #expect(!card.contains("x_injected") && !card.contains("x-injected") && !front.contains("license: mit"))
        #expect(!card.split(separator: "\n").contains { $0.hasPrefix("license: mit") }, "a hostile value made a line of its own")
        #expect((a["license"] as? String ?? "").allSatisfy { !$0.isNewline }, "\(a)")

        // Finding 3, 4: licences read whole; no version invented; text and URL disagreeing, or two sources disagreeing, leave it out.
        let credits = Dictionary(uniqueKeysWithValues: try PublishTests.csvRows(pubA.appendingPathComponent("ATTRIBUTION.csv")).map { ($0["image_sha256"] ?? "", $0) })
        let excluded = Dictionary(uniqueKeysWithValues: try PublishTests.csvRows(pubA.appendingPathComponent("ATTRIBUTION_EXCLUDED.csv")).map { ($0["image_sha256"] ?? "", $0) })
        #expect(credits[shas["Bungeo-ppang"]!]?["license"] == "cc-by-nc-nd", "\(credits[shas["Bungeo-ppang"]!] ?? [:])")
        #expect(credits[shas["Gat"]!]?["license"] == "cc-by-nc")
        #expect(credits[shas["Hanok"]!]?["license_url"] == "https://creativecommons.org/licenses/by/2.0/", "CC BY 2.0 is its own deed, not 4.0's")
        #expect(credits[shas["Hanbok"]!]?["license_url"] == "https://creativecommons.org/licenses/by/4.0/", "the injected URL is not used: the deed of the spelled version is")
        #expect(excluded[shas["Kimchi"]!]?["reason"]?.contains("conflicting licence") == true, "\(excluded)")
        #expect(excluded[shas["Tteok"]!]?["reason"]?.contains("conflicting licence") == true, "\(excluded)")
        #expect(credits[shas["Kimchi"]!] == nil && credits[shas["Tteok"]!] == nil)

        // Finding 14: no text written from a left-out image ships in `text`.
        let leftOutTexts = try Workspace.open(at: ws).manifest.read { db in
            try String.fetchAll(db, sql: "SELECT text FROM descriptions WHERE status = 'accepted' AND mode = 'image-grounded' AND image_sha256 IN (?, ?)",
                                arguments: [shas["Kimchi"]!, shas["Tteok"]!])
        }
        #expect(!leftOutTexts.isEmpty, "no grounded description of a left-out image: the check would be vacuous")
        let shippedTexts = Set(seenA?.items("text", "train").compactMap { $0["text"] as? String } ?? leftOutTexts)
        #expect(leftOutTexts.allSatisfy { !shippedTexts.contains($0) }, "a description of a left-out image ships in text/train")
        #expect((a["texts_left_out"] as? Int ?? 0) >= leftOutTexts.count && card.contains("texts left out with their image"), "\(a)")

        // Finding 6, 15: markers and markup in manifest text are inert; the card is stable; links are http(s) only; CSV defused.
        let markerLines = card.split(separator: "\n").filter { $0.hasPrefix("<!-- dsbuild:") }
        #expect(markerLines.count == 18, "one begin and one end per region: \(markerLines)")
        #expect(!card.contains("\r") && !card.contains("<img"))
        let attributionMD = try String(contentsOf: pubA.appendingPathComponent("ATTRIBUTION.md"), encoding: .utf8)
        #expect(!attributionMD.contains("javascript:") && !attributionMD.contains("<img") && !attributionMD.contains("\r"), "\(attributionMD)")
        #expect(credits[shas["Yut"]!]?["author"]?.hasPrefix("'=HYPERLINK") == true)

        // Finding 10: the user deletes a region's end marker and writes after it: the text survives every republish.
        let edited = card.replacingOccurrences(of: "<!-- dsbuild:end funnel -->\n", with: "\nOUR NOTES — 우리.\n")
        try edited.write(to: pubA.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        try publish(pubA)
        let once = try String(contentsOf: pubA.appendingPathComponent("README.md"), encoding: .utf8)
        try publish(pubA)
        let twice = try String(contentsOf: pubA.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(once.contains("OUR NOTES — 우리.") && twice == once, "user text lost or the card grew")

        // Finding 9: a truncated parquet is rewritten (never kept); a Python that writes nothing is an error and keeps nothing wrong.
        let parquet = pubA.appendingPathComponent("paired/train-00000.parquet")
        let good = try Data(contentsOf: parquet)
        try good.prefix(good.count / 2).write(to: parquet)
        let (_, repaired) = try publish(pubA)
        let repairedBytes = try Data(contentsOf: parquet)
        #expect(repaired["parquet_written"] as? Int == 1 && repairedBytes == good, "\(repaired)")
        let silent = try run(["publish", "--out", pubA.path, "--python", "/bin/true", "--layout", "per_image"], expect: 1)
        #expect(silent.stderr.contains("/bin/true") && silent.stderr.contains("did not report"), "\(silent.stderr)")
        let (_, back) = try publish(pubA)
        let backBytes = try Data(contentsOf: parquet)
        #expect(back["parquet_written"] as? Int == 0 && backBytes == good,
                "the failed per_image try recorded nothing: the per_sample file is still the right one: \(back)")

        // Finding 12: every error names its item; --trainer exists; an empty --out is refused.
        let falsePython = try run(["publish", "--out", pubA.path, "--python", "/bin/false", "--layout", "per_image"], expect: 1)
        #expect(falsePython.stderr.contains("/bin/false"), "\(falsePython.stderr)")
        let withTrainer = try run(["publish", "--out", pubA.path, "--python", python, "--trainer", TestPaths.repositoryRoot.appendingPathComponent("trainer").path, "--quiet"])
        #expect(withTrainer.status == 0)
        let emptyOut = try run(["publish", "--out", "", "--python", python], expect: nil)
        #expect(emptyOut.status != 0, "\(emptyOut.stderr)")
        try Data("x".utf8).write(to: tmp.path("afile"))
        let onFile = try run(["publish", "--out", tmp.path("afile").path, "--python", python], expect: 1)
        #expect(onFile.stderr.contains("is a file") && !onFile.stderr.contains("NSCocoaErrorDomain"), "\(onFile.stderr)")
        // A folder that cannot be made (the tests may run as root, so a read-only place is /proc): the folder and the cause.
        let unwritable = try run(["publish", "--out", "/proc/dsbuild-publish-test/out", "--python", python], expect: 1)
        #expect(unwritable.stderr.contains("/proc/dsbuild-publish-test/out: cannot write the folder:") && !unwritable.stderr.contains("NSCocoaErrorDomain"),
                "\(unwritable.stderr)")
        let badName = try run(["publish", "--out", tmp.path("pubN").path, "--python", python, "--pretty-name", "a\u{7F}b"], expect: nil)
        #expect(badName.status != 0 && badName.stderr.contains("U+007F"), "\(badName.stderr)")

        // Finding 5: never into a user's folder, the workspace or the shards; a user's file inside a release survives.
        let user = tmp.path("mine")
        try FileManager.default.createDirectory(at: user.appendingPathComponent("paired"), withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: user.appendingPathComponent("paired/notes.txt"))
        try "---\ntitle: mine\n---\nmine\n".write(to: user.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        let refusedUser = try run(["publish", "--out", user.path, "--python", python], expect: 1)
        #expect(refusedUser.stderr.contains("not a dsbuild release"), "\(refusedUser.stderr)")
        let userCard = try String(contentsOf: user.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(userCard == "---\ntitle: mine\n---\nmine\n")
        #expect(FileManager.default.fileExists(atPath: user.appendingPathComponent("paired/notes.txt").path))
        let shardFiles = try RunFiles.all(ws.appendingPathComponent("shards")).count
        let refusedShards = try run(["publish", "--out", ws.appendingPathComponent("shards").path, "--python", python], expect: 1)
        let shardFilesAfter = try RunFiles.all(ws.appendingPathComponent("shards")).count
        #expect(refusedShards.stderr.contains("shards folder") && shardFilesAfter == shardFiles, "\(refusedShards.stderr)")
        try Data("ours".utf8).write(to: pubA.appendingPathComponent("paired/train-notes.txt"))
        let (_, perImage) = try publish(pubA, ["--layout", "per_image"])
        #expect((perImage["parquet_written"] as? Int ?? 0) >= 1, "\(perImage)")
        #expect(FileManager.default.fileExists(atPath: pubA.appendingPathComponent("paired/train-notes.txt").path))

        // Finding 13: a second publish into a folder another one holds is refused.
        let fd = open(pubA.appendingPathComponent(".dsbuild-release.lock").path, O_RDWR)
        #expect(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
        let locked = try run(["publish", "--out", pubA.path, "--python", python], expect: 1)
        #expect(locked.stderr.contains("another publish"), "\(locked.stderr)")
        flock(fd, LOCK_UN)
        close(fd)

        // Finding 3 (commercial): every restriction counts.
        let pubC = tmp.path("pubC")
        let (_, c) = try publish(pubC, ["--commercial"])
        let excludedC = Dictionary(uniqueKeysWithValues: try PublishTests.csvRows(pubC.appendingPathComponent("ATTRIBUTION_EXCLUDED.csv")).map { ($0["image_sha256"] ?? "", $0["reason"] ?? "") })
        for keyword in ["Bungeo-ppang", "Gat"] {
            #expect(excludedC[shas[keyword]!]?.contains("forbids commercial use") == true, "\(keyword): \(excludedC)")
        }
        #expect(c["images_left_out"] as? Int == 4, "\(c)")

        // Finding 15: a centre crop is credited as a crop; the card says what metadata an unchanged image keeps.
        let pubR = tmp.path("pubR")
        try publish(pubR, ["--resize", "center_crop", "--image-size", "64"])
        let cropped = try PublishTests.csvRows(pubR.appendingPathComponent("ATTRIBUTION.csv"))
        #expect(!cropped.isEmpty && cropped.allSatisfy { $0["modifications"]?.contains("cropped to the centre and resized from") == true }, "\(cropped)")
        #expect(card.contains("EXIF included (which may hold the camera and a GPS position)"))

        // Finding 15: Ctrl-C says what is true (the folder is unfinished) and frees the folder for the run that finishes it.
        let slow = CommandRunner(environment: ["DSBUILD_TEST_PUBLISH_DELAY_MS": "400"])
        let pubI = tmp.path("pubI")
        let interrupted = try slow.start(["publish", "--workspace", ws.path, "--out", pubI.path, "--python", python, "--quiet"])
        Thread.sleep(forTimeInterval: 1.0)
        kill(interrupted.process.processIdentifier, SIGINT)
        let stopped = interrupted.wait()
        #expect(stopped.status != 0 && stopped.stderr.contains("the release folder is unfinished") && !stopped.stderr.contains("done work is kept"),
                "\(stopped.status): \(stopped.stderr)")
        #expect(!FileManager.default.fileExists(atPath: pubI.appendingPathComponent("croissant.json").path), "the interrupt came too late")
        try publish(pubI)
        #expect(!FileManager.default.fileExists(atPath: pubI.appendingPathComponent(".staging").path)
                && !FileManager.default.fileExists(atPath: pubI.appendingPathComponent(".progress").path))

        // Finding 8: a store file changed in place (same size) is named once, left out, and the run exits 1.
        let stored = try Workspace.open(at: ws).manifest.read { db in
            try #require(try String.fetchOne(db, sql: "SELECT path FROM images WHERE sha256 = ?", arguments: [shas["Hanok"]!]))
        }
        var bytes = try Data(contentsOf: ws.appendingPathComponent(stored))
        bytes[bytes.count - 3] ^= 0xFF
        try bytes.write(to: ws.appendingPathComponent(stored))
        let (corrupt, e) = try publish(tmp.path("pubE"), expect: 1)
        let lines = corrupt.stderr.split(separator: "\n").filter { $0.contains(shas["Hanok"]!.prefix(12)) }
        #expect(lines.count == 1 && lines.first?.contains("no longer matches its sha256") == true, "\(corrupt.stderr)")
        #expect(e["images_published"] as? Int == (a["images_published"] as? Int ?? 0) - 1, "\(e)")
    }
}
