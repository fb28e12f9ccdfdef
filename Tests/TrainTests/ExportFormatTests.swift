import Dataset
import Foundation
import Imaging
import Testing
import _DSBuildTestSupport
@testable import Train

/// The exports a researcher expects beyond the first four (issue 19): every image they hold honours `--resize`,
/// the OpenAI export keeps OpenAI's rules and holds out a validation part by image, LLaMA-Factory gets alpaca
/// beside sharegpt, LLaVA a stage-1 caption file, VLMEvalKit and lmms-eval the test split.
@Suite("export formats")
struct ExportFormatTests {
    /// Longest side of every image an export holds, by where it was found.
    static func imageSides(in exports: URL) throws -> [String: Int] {
        var sides: [String: Int] = [:]
        let fm = FileManager.default
        for case let url as URL in fm.enumerator(at: exports, includingPropertiesForKeys: nil)! {
            let relative = String(url.path.dropFirst(exports.path.count + 1))
            if url.deletingLastPathComponent().lastPathComponent == "images" {
                let probe = try ImageProber.probe(fileAt: url)
                sides[relative] = max(probe.displayWidth, probe.displayHeight)
            } else if url.pathExtension == "jsonl" || url.pathExtension == "tsv" {
                let text = try String(contentsOf: url, encoding: .utf8)
                for (i, blob) in base64Images(text).enumerated() {
                    let probe = try ImageProber.probe(data: blob)
                    sides["\(relative)#\(i)"] = max(probe.displayWidth, probe.displayHeight)
                }
            }
        }
        return sides
    }

    /// The images a text holds as base64 (data URLs, or TSV cells of base64 image bytes).
    static func base64Images(_ text: String) -> [Data] {
        var out: [Data] = []
        for line in text.split(separator: "\n") {
            for cell in line.split(whereSeparator: { $0 == "\t" || $0 == "\"" || $0 == "," }) where cell.count > 64 {
                if let data = Data(base64Encoded: String(cell)), ImageMagic.format(of: data.prefix(16)) != nil { out.append(data) }
            }
        }
        return out
    }

    @Test func everyExportHonoursResize() async throws {
        let fixture = try FixtureWorkspace(images: 4, testEvery: 2)
        let (_, _) = try await fixture.writeShards()
        let plain = fixture.dir.path("plain")
        _ = try ShardExports.write(ShardExports.names, workspace: fixture.workspace, out: plain)
        // Without --resize the K-Viscuit photos leave larger than 96 pixels: the check below can fail.
        let original = try Self.imageSides(in: plain.appendingPathComponent("exports"))
        #expect(original.values.contains { $0 > 96 })

        var settings = ShardSettings(out: fixture.dir.path("resized"))
        settings.resize = ImageTransformRequest(mode: .keepRatio, size: 96, quality: 85)
        let files = try ShardExports.write(ShardExports.names, workspace: fixture.workspace, out: settings.out, settings: settings)
        let sides = try Self.imageSides(in: settings.out.appendingPathComponent("exports"))
        // Every kind of place an image can be: placed files, the test images, data URLs, TSV cells.
        for place in ["images/", "mcq_test/images/", "lmms_eval/images/", "openai.jsonl#", "vlmevalkit/dsbuild_mcq.tsv#"] {
            #expect(sides.keys.contains { $0.hasPrefix(place) }, "no image found in \(place); files: \(files)")
        }
        for (place, side) in sides { #expect(side == 96, "\(place) is \(side) pixels on its longest side, not 96") }
    }

    @Test func openAIExportSplitsFilesAndHoldsOutValidationImages() async throws {
        let fixture = try FixtureWorkspace(images: 6, testEvery: 3)
        var settings = ShardSettings(out: fixture.dir.path("out"))
        settings.resize = ImageTransformRequest(mode: .keepRatio, size: 64, quality: 80)
        settings.openAI.validationFraction = 0.25
        settings.openAI.maxFileBytes = 12_000
        let files = try ShardExports.write(["openai"], workspace: fixture.workspace, out: settings.out, settings: settings)
        let dir = settings.out.appendingPathComponent("exports")
        let train = files.filter { $0.hasPrefix("exports/openai-") }, validation = files.filter { $0.hasPrefix("exports/openai_validation") }
        #expect(train.count >= 2, "\(files)")
        #expect(!validation.isEmpty, "\(files)")
        func images(_ names: [String]) throws -> Set<String> {
            var out = Set<String>()
            for name in names {
                let data = try Data(contentsOf: settings.out.appendingPathComponent(name))
                #expect(data.count <= 12_000, "\(name) is \(data.count) bytes")
                for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
                    let o = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                    let messages = try #require(o["messages"] as? [[String: Any]])
                    #expect(messages.last?["role"] as? String == "assistant")
                    for part in (messages.first?["content"] as? [[String: Any]]) ?? [] {
                        guard let url = (part["image_url"] as? [String: String])?["url"] else { continue }
                        let blob = try #require(Data(base64Encoded: String(url.split(separator: ",")[1])))
                        #expect([.rgb, .rgba, .ycbcr].contains(try ImageProber.probe(data: blob).colorModel))
                        out.insert(ContentHash.sha256Hex(blob))
                    }
                }
            }
            return out
        }
        let trainImages = try images(train), validationImages = try images(validation)
        #expect(!trainImages.isEmpty && !validationImages.isEmpty)
        #expect(trainImages.isDisjoint(with: validationImages), "an image is in both the training and the validation file")
        // A rerun with one big file: the parts of the first run leave, one openai.jsonl stays.
        settings.openAI.maxFileBytes = 512_000_000
        let again = try ShardExports.write(["openai"], workspace: fixture.workspace, out: settings.out, settings: settings)
        #expect(again.sorted() == ["exports/openai.jsonl", "exports/openai_validation.jsonl"])
        let left = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("openai") }
        #expect(left.sorted() == ["openai.jsonl", "openai_validation.jsonl"])
    }

    @Test func greyscaleImagesBecomeRGBForOpenAIOnly() throws {
        let fixture = try FixtureWorkspace(images: 1, testEvery: 0)
        var noise = SystemRandomNumberGenerator()
        let pixels = (0..<(200 * 150)).map { _ in UInt8.random(in: 0...255, using: &noise) }
        let grey = try ImageEncoder.jpeg(DecodedImage(width: 200, height: 150, channels: 1, pixels: pixels))
        let renderer = ImageRenderer(workspace: fixture.workspace, settings: ImageOutputSettings())
        let base = RenderedImage(data: grey, fileExtension: "jpg", width: 200, height: 150, reasons: [], writtenSHA256: ContentHash.sha256Hex(grey))
        let image = StoredImage(sha: base.writtenSHA256, path: "none", format: "jpg", orientation: 1, bytes: grey.count)
        #expect(try ImageProber.probe(data: grey).colorModel == .gray)
        let fitted = try renderer.fitting(base, of: image, to: .openAI)
        #expect(try ImageProber.probe(data: fitted.data).colorModel == .ycbcr)
        #expect(fitted.width == 200 && fitted.height == 150)
        // Too big for a limit: scaled down until it fits, aspect kept.
        #expect(grey.count > 8000)
        let small = try renderer.fitting(base, of: image, to: ImageLimits(colourOnly: true, maxBytes: 8000))
        #expect(small.data.count <= 8000 && (small.width ?? 999) < 200)
        #expect(abs(Double(small.width ?? 0) / Double(small.height ?? 1) - 4.0 / 3.0) < 0.15)
    }

    @Test func llamaFactoryAlpacaLLaVAPretrainAndEvalExportsFollowTheirLayouts() async throws {
        let fixture = try FixtureWorkspace(images: 4, testEvery: 2)
        let (out, summary) = try await fixture.writeShards()
        _ = try ShardExports.write(["llama-factory", "llava-pretrain", "vlmevalkit", "lmms-eval"], workspace: fixture.workspace, out: out)
        let dir = out.appendingPathComponent("exports")
        func list(_ name: String) throws -> [[String: Any]] {
            try #require(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(name))) as? [[String: Any]])
        }
        let alpaca = try list("llama_factory_alpaca_paired.json"), sharegpt = try list("llama_factory_paired.json")
        #expect(alpaca.count == summary.pairedSamples && sharegpt.count == alpaca.count)
        for (a, s) in zip(alpaca, sharegpt) {
            let messages = try #require(s["messages"] as? [[String: String]])
            #expect(a["instruction"] as? String == messages[0]["content"] && a["output"] as? String == messages.last?["content"])
            #expect((a["instruction"] as? String)?.hasPrefix("<image>") == true)
            #expect(a["images"] as? [String] == s["images"] as? [String])
        }
        let alpacaText = try list("llama_factory_alpaca_text.json")
        #expect(alpacaText.count == summary.textRecords && alpacaText.allSatisfy { $0["images"] == nil && !"\($0)".contains("<image>") })
        let info = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("dataset_info.json"))) as? [String: [String: Any]])
        #expect(info["dsbuild_alpaca_paired"]?["formatting"] as? String == "alpaca")
        #expect((info["dsbuild_alpaca_paired"]?["columns"] as? [String: String])?["images"] == "images")

        // LLaVA stage 1: one entry per image and visual description, the description as the caption.
        let pretrain = try list("llava_pretrain.json")
        let visual = try fixture.workspace.manifest.read { db in
            try String.fetchAll(db, sql: "SELECT text FROM descriptions WHERE status = 'accepted' AND aspect = 'visual' AND image_sha256 != ''")
        }
        #expect(!pretrain.isEmpty)
        for item in pretrain {
            let conv = try #require(item["conversations"] as? [[String: String]])
            #expect(conv.count == 2 && conv[0]["from"] == "human" && conv[0]["value"]?.hasPrefix("<image>\n") == true && conv[1]["from"] == "gpt")
            #expect(visual.contains(conv[1]["value"] ?? ""), "caption \(conv[1]["value"] ?? "") is no visual description")
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(item["image"] as? String ?? "-").path))
        }

        // VLMEvalKit and lmms-eval: every test question, its answer as a letter.
        let test = try EvalStore.questions(in: fixture.workspace, split: "test")
        let tsv = try String(contentsOf: dir.appendingPathComponent("vlmevalkit/dsbuild_mcq.tsv"), encoding: .utf8)
        let rows = tsv.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        let header = try #require(rows.first)
        #expect(Array(header.prefix(2)) == ["index", "question"] && header.contains("answer") && header.last == "image")
        let answer = try #require(header.firstIndex(of: "answer")), id = try #require(header.firstIndex(of: "id"))
        #expect(rows.count - 1 == test.filter { $0.imagePath != nil }.count)
        for row in rows.dropFirst() {
            let q = try #require(test.first { $0.id == row[id] })
            #expect(row[answer] == q.answerLetter)
        }
        let lmms = try String(contentsOf: dir.appendingPathComponent("lmms_eval/dsbuild_mcq.yaml"), encoding: .utf8)
        #expect(lmms.contains("doc_to_visual: !function utils.doc_to_visual"))
        #expect(lmms.contains(dir.appendingPathComponent("lmms_eval/dsbuild_mcq.jsonl").path))
        let (_, docs) = try QuestionFileReader.read(dir.appendingPathComponent("lmms_eval/dsbuild_mcq.jsonl"))
        #expect(docs.map(\.id) == test.map(\.id) && docs.map(\.answer) == test.map(\.answer))
    }
}
