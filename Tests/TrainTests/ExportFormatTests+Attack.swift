import Dataset
import Foundation
import GRDB
import Imaging
import Testing
import _DSBuildTestSupport
@testable import Train

/// What an adversarial run of the exports found, each proved fixed: placeholder tokens in texts, hard links into the
/// store, OpenAI validation sharing targets with training, stale exports of another split, small OpenAI parts,
/// 16-bit PNGs, empty eval exports, YAML escapes, pandas' number reading, NUL characters, pretrain captions.
extension ExportFormatTests {
    @Test func placeholderTokensAreNeutralisedAndCheckFlagsThemInPairedRows() {
        let text = "It shows <image> and <|image_pad|><|vision_start|> beside a <video> and <audio>."
        let out = ImageReference.neutralised(text)
        for token in ImageReference.tokens { #expect(!out.contains(token), "\(token) is still in \(out)") }
        #expect(out == "It shows ‹image› and ‹|image_pad|›‹|vision_start|› beside a ‹video› and ‹audio›.")
        #expect(ImageReference.neutralised("a < b > c") == "a < b > c")
        // One leading <image> per image is the format; one more inside the text is a problem, as is any other token.
        let good = [ChatTurn(role: "user", content: "<image>\nDescribe it."), ChatTurn(role: "assistant", content: "A hat.")]
        #expect(TextOnlyNoImageRefsCheck.placeholderProblem(images: 1, turns: good) == nil)
        #expect(TextOnlyNoImageRefsCheck.placeholderProblem(images: 1, turns: [good[0], ChatTurn(role: "assistant", content: "It shows <image>.")]) != nil)
        #expect(TextOnlyNoImageRefsCheck.placeholderProblem(images: 1, turns: [good[0], ChatTurn(role: "assistant", content: "<|image_pad|>")]) != nil)
        #expect(TextOnlyNoImageRefsCheck.placeholderProblem(images: 1, turns: [ChatTurn(role: "user", content: "Describe it."), good[1]]) == nil)
    }

    @Test func exportedImagesAreCopiesAndAChangedStoreImageIsRefused() throws {
        let fixture = try FixtureWorkspace(images: 3, testEvery: 0)
        let out = fixture.dir.path("out")
        _ = try ShardExports.write(["llava"], workspace: fixture.workspace, out: out)
        let images = out.appendingPathComponent("exports/images")
        let placed = try FileManager.default.contentsOfDirectory(atPath: images.path)
        #expect(!placed.isEmpty)
        for name in placed {
            let attributes = try FileManager.default.attributesOfItem(atPath: images.appendingPathComponent(name).path)
            #expect((attributes[.referenceCount] as? NSNumber)?.intValue == 1, "\(name) is a hard link into the workspace store")
        }
        // Editing an exported image leaves the store as it was.
        let first = images.appendingPathComponent(placed[0])
        let sha = String(placed[0].prefix(64))
        let stored = try fixture.workspace.manifest.read { db in try String.fetchOne(db, sql: "SELECT path FROM images WHERE sha256 = ?", arguments: [sha]) }
        let storeURL = fixture.workspace.imageURL(relativePath: try #require(stored))
        try Data("edited".utf8).write(to: first)
        #expect(ContentHash.sha256Hex(try Data(contentsOf: storeURL)) == sha)
        // A store image whose bytes changed is refused by name, never written.
        var bytes = try Data(contentsOf: storeURL)
        bytes.append(0)
        try bytes.write(to: storeURL)
        #expect { try ShardExports.write(["llava"], workspace: fixture.workspace, out: out) } throws: { error in
            "\(error)".contains(sha) && "\(error)".contains("sha256")
        }
    }

    @Test func noDescriptionIsATargetInBothOpenAIFiles() throws {
        let fixture = try FixtureWorkspace(images: 6, testEvery: 0)
        let descriptions = try Set(fixture.workspace.manifest.read { db in
            try String.fetchAll(db, sql: "SELECT text FROM descriptions WHERE status = 'accepted'")
        })
        var exercised = false
        for seed in 0..<4 {
            var settings = ShardSettings(out: fixture.dir.path("out-\(seed)"))
            settings.openAI.validationFraction = 0.4
            settings.openAI.seed = seed
            _ = try ShardExports.write(["openai"], workspace: fixture.workspace, out: settings.out, settings: settings)
            func targets(_ name: String) throws -> Set<String> {
                let text = try String(contentsOf: settings.out.appendingPathComponent("exports/\(name)"), encoding: .utf8)
                return Set(try text.split(separator: "\n").map { line in
                    let o = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                    return try #require((o["messages"] as? [[String: Any]])?.last?["content"] as? String)
                }.filter(descriptions.contains))
            }
            let train = try targets("openai.jsonl"), validation = try targets("openai_validation.jsonl")
            exercised = exercised || !validation.isEmpty
            #expect(train.isDisjoint(with: validation), "seed \(seed): \(train.intersection(validation))")
        }
        #expect(exercised, "no description went to validation: the check is vacuous")
    }

    @Test func exportsThisRunDidNotWriteLeave() throws {
        let fixture = try FixtureWorkspace(images: 4, testEvery: 2)
        let out = fixture.dir.path("out")
        _ = try ShardExports.write(["llava", "llava-pretrain", "llama-factory", "mcq", "vlmevalkit", "lmms-eval"], workspace: fixture.workspace, out: out)
        let dir = out.appendingPathComponent("exports")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).contains("llava.json"))
        let outcome = try ShardExports.run(["openai"], workspace: fixture.workspace, out: out)
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(left.allSatisfy { $0.hasPrefix("openai") }, "\(left)")
        #expect(outcome.notes.contains { $0.contains("llava.json") && $0.contains("mcq_test") && $0.contains("images") }, "\(outcome.notes)")
        // No export at all: what the last run wrote leaves too.
        #expect(ShardExports.removeStale(keeping: [], in: dir).count == 1)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func openAIPartsHoldTenExamplesEachWhereTheLimitAllows() throws {
        let dir = TemporaryDirectory("dsbuild-openai-parts")
        let lines = (0..<32).map { OpenAIExport.Line(item: "sample \($0)", data: Data(repeating: 0x61, count: 99) + Data([0x0A])) }
        let problems = ExportProblems()
        let names = try OpenAIExport.writeParts(lines, stem: "openai", limit: 1500, in: dir.url, problems: problems)
        #expect(names.count == 3)
        for name in names {
            let count = try Data(contentsOf: dir.url.appendingPathComponent(name)).filter { $0 == 0x0A }.count
            #expect(count >= OpenAIExportSettings.minExamples && count * 100 <= 1500, "\(name) holds \(count)")
        }
        #expect(problems.notes.isEmpty && problems.lines.isEmpty)
        // Too few for one file: written, with a note naming it; an example over the limit is left out by name.
        let few = try OpenAIExport.writeParts(Array(lines.prefix(4)) + [OpenAIExport.Line(item: "paired sample p-big", data: Data(count: 2000))],
                                              stem: "openai_validation", limit: 1500, in: dir.url, problems: problems)
        #expect(few == ["openai_validation.jsonl"])
        #expect(problems.notes.count == 1 && problems.notes[0].contains("openai_validation.jsonl") && problems.notes[0].contains("4 example"))
        #expect(problems.lines.count == 1 && problems.lines[0].contains("p-big"))
    }

    @Test func sixteenBitPNGsLeaveAtEightBits() throws {
        let fixture = try FixtureWorkspace(images: 1, testEvery: 0)
        let png = ImageFactory.greyPNG16(width: 300, height: 240)
        let sha = ContentHash.sha256Hex(png)
        let path = "images/\(sha.prefix(2))/\(sha).png"
        let url = fixture.workspace.imageURL(relativePath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try png.write(to: url)
        #expect(try ImageProber.probe(data: png).bitDepth == 16)
        let renderer = ImageRenderer(workspace: fixture.workspace, settings: ImageOutputSettings(format: .png))
        let image = StoredImage(sha: sha, path: path, format: "png", orientation: 1, bytes: png.count)
        #expect(renderer.reasons(image).isEmpty)
        let rendered = try renderer.render(image)
        #expect(rendered.reasons == [.bitDepth])
        #expect(try ImageProber.probe(data: rendered.data).bitDepth == 8)
    }

    @Test func evalExportsWithoutTestQuestionsWriteNothingAndSaySo() throws {
        let fixture = try FixtureWorkspace(images: 3, testEvery: 0)
        let out = fixture.dir.path("out")
        let outcome = try ShardExports.run(["mcq", "vlmevalkit", "lmms-eval"], workspace: fixture.workspace, out: out)
        #expect(outcome.files.isEmpty, "\(outcome.files)")
        #expect(outcome.problems.count == 3 && outcome.problems.allSatisfy { $0.contains("no accepted test question") }, "\(outcome.problems)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("exports").path)) ?? []
        #expect(left.isEmpty, "\(left)")
    }

    @Test func yamlQuotingEscapesEveryCharacterYAMLDoesNotTakeAsItIs() throws {
        let name = "/tmp/a\u{7F}b\u{85}c\u{2028}d\u{1}e\u{FEFF}f한g😀\t\"h\\"
        let quoted = LMMsEvalExport.quoted(name)
        for scalar in quoted.unicodeScalars {
            let v = scalar.value
            #expect(!(v < 0x20 || (0x7F...0x9F).contains(v) || v == 0x2028 || v == 0xFEFF), "U+\(String(v, radix: 16)) left raw in \(quoted)")
        }
        // JSON reads the same escapes, so the round trip proves the value.
        #expect(try JSONSerialization.jsonObject(with: Data(quoted.utf8), options: [.fragmentsAllowed]) as? String == name)
    }

    @Test(arguments: [("1988", true), ("007", true), (" 12 ", true), ("1e3", true), ("inf", true), ("TRUE", true), ("false", true),
                      ("1988년", false), ("0x", false), ("A hammer", false), ("-", false), ("1,000", false)])
    func pandasNumberCellsAreKnown(cell: String, converts: Bool) {
        #expect(TSVWriter.pandasConverts(cell) == converts)
    }
}

extension ExportFormatTests {
    /// A paired sample whose image bytes are not the ones its json records (a store image changed and copied as it was
    /// then) is a `shards_intact` violation, even when shards.json's file hashes were written over those bytes.
    @Test func checkFindsImageBytesThatAreNotTheRecordedOnes() async throws {
        let fixture = try FixtureWorkspace(images: 3, testEvery: 0)
        let (out, _) = try await fixture.writeShards()
        let auditor = WorkspaceAuditor(workspace: fixture.workspace, shards: out, phashDistance: 8)
        #expect(try auditor.run(only: ["shards_intact"]).results.allSatisfy { $0.violations.isEmpty })
        let indexURL = out.appendingPathComponent("shards.json")
        var index = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: indexURL)) as? [String: Any])
        var paired = try #require(index["paired"] as? [[String: Any]])
        let tarURL = out.appendingPathComponent(try #require(paired[0]["file"] as? String))
        var tar = try Data(contentsOf: tarURL)
        let stored = try fixture.workspace.manifest.read { db in try String.fetchAll(db, sql: "SELECT path FROM images") }
        let found = try stored.compactMap { path -> Range<Data.Index>? in
            tar.range(of: try Data(contentsOf: fixture.workspace.imageURL(relativePath: path)))
        }.first
        let range = try #require(found, "no stored image copied byte for byte into \(tarURL.lastPathComponent)")
        let middle = range.lowerBound + range.count / 2
        tar[middle] ^= 0x5A
        try tar.write(to: tarURL)
        // shards.json as if the tar had been written so: its hash and the fingerprint over the bytes now there.
        paired[0]["sha256"] = ContentHash.sha256Hex(tar)
        index["paired"] = paired
        let shas = ((index["text"] as? [[String: Any]] ?? []) + paired).compactMap { $0["sha256"] as? String }.sorted()
        index["fingerprint"] = ContentHash.sha256Hex(shas.joined())
        try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys]).write(to: indexURL)
        let violations = try auditor.run(only: ["shards_intact"]).results.flatMap(\.violations)
        #expect(violations.count == 1 && violations.first?.message.contains("written_sha256") == true, "\(violations)")
    }
}

extension ExportFormatTests {
    /// LLaVA's stage-1 captions are the visual descriptions written from that very image: a keyword-level visual
    /// description (text-only mode, paired with the keyword's first image) captions no image.
    @Test func pretrainCaptionsAreDescriptionsOfTheirOwnImage() throws {
        let fixture = try FixtureWorkspace(images: 3, testEvery: 0)
        // The fixture's keyword-level visual descriptions are rejected ones: accept them, as describe does a good reply.
        let keywordLevel = try fixture.workspace.manifest.write { db -> [String] in
            try db.execute(sql: "UPDATE descriptions SET status = 'accepted', text = 'A keyword-level look at ' || keyword_id || ': round, lacquered, with brass fittings.' WHERE image_sha256 = '' AND aspect = 'visual'")
            return try String.fetchAll(db, sql: "SELECT text FROM descriptions WHERE image_sha256 = '' AND aspect = 'visual' AND status = 'accepted'")
        }
        #expect(!keywordLevel.isEmpty)
        let out = fixture.dir.path("out")
        _ = try ShardExports.write(["llava-pretrain"], workspace: fixture.workspace, out: out)
        let items = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("exports/llava_pretrain.json"))) as? [[String: Any]])
        #expect(!items.isEmpty)
        for item in items {
            let caption = ((item["conversations"] as? [[String: String]])?.last?["value"]) ?? ""
            let sha = String(((item["image"] as? String ?? "") as NSString).lastPathComponent.prefix(64))
            let own = try fixture.workspace.manifest.read { db in
                try String.fetchAll(db, sql: "SELECT text FROM descriptions WHERE status = 'accepted' AND aspect = 'visual' AND image_sha256 = ?", arguments: [sha])
            }
            #expect(own.contains(caption), "\(item["id"] ?? ""): caption \(caption.prefix(60)) is no description of its image")
        }
    }
}
