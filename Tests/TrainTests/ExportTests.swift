import Dataset
import Foundation
import Testing
import _DSBuildTestSupport
@testable import Train

@Suite("exports")
struct ExportTests {
    func occurrences(_ needle: String, in text: String) -> Int { text.components(separatedBy: needle).count - 1 }

    @Test func llavaLlamaFactoryOpenAIAndMCQExportsFollowTheirSchemas() async throws {
        let fixture = try FixtureWorkspace(images: 3, testEvery: 3)
        let (out, summary) = try await fixture.writeShards()
        let files = try ShardExports.write(ShardExports.names, workspace: fixture.workspace, out: out)
        #expect(Set(files).isSuperset(of: ["exports/llava.json", "exports/llama_factory_paired.json", "exports/llama_factory_text.json",
                                           "exports/dataset_info.json", "exports/openai.jsonl", "exports/mcq_test/mcq_test.jsonl"]))
        let dir = out.appendingPathComponent("exports")

        // LLaVA: one <image> exactly when there is an image, and the image exists under the image folder.
        let llava = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("llava.json"))) as? [[String: Any]])
        #expect(llava.count == summary.pairedSamples + summary.textRecords)
        for item in llava {
            let conv = try #require(item["conversations"] as? [[String: String]])
            #expect(conv.first?["from"] == "human" && conv.last?["from"] == "gpt")
            let tokens = conv.map { occurrences("<image>", in: $0["value"] ?? "") }.reduce(0, +)
            if let image = item["image"] as? String {
                #expect(tokens == 1 && conv[0]["value"]!.hasPrefix("<image>\n"))
                #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent(image).path))
            } else {
                #expect(tokens == 0)
            }
        }

        // LLaMA-Factory: <image> count equals images count; dataset_info registers both files with their columns.
        let paired = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("llama_factory_paired.json"))) as? [[String: Any]])
        #expect(paired.count == summary.pairedSamples)
        for row in paired {
            let images = try #require(row["images"] as? [String])
            let messages = try #require(row["messages"] as? [[String: String]])
            #expect(messages.map { occurrences("<image>", in: $0["content"] ?? "") }.reduce(0, +) == images.count)
            #expect(images.allSatisfy { FileManager.default.fileExists(atPath: dir.appendingPathComponent($0).path) })
        }
        let text = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("llama_factory_text.json"))) as? [[String: Any]])
        #expect(text.count == summary.textRecords)
        #expect(text.allSatisfy { $0["images"] == nil && !"\($0)".contains("<image>") })
        let info = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("dataset_info.json"))) as? [String: [String: Any]])
        #expect(info["dsbuild_paired"]?["formatting"] as? String == "sharegpt")
        #expect((info["dsbuild_paired"]?["columns"] as? [String: String])?["images"] == "images")
        #expect(info["dsbuild_text"]?["file_name"] as? String == "llama_factory_text.json")

        // OpenAI: every line a chat, in the training or the validation file; paired lines carry one data-URL image part.
        let lines = try ["openai.jsonl", "openai_validation.jsonl"].flatMap {
            try String(contentsOf: dir.appendingPathComponent($0), encoding: .utf8).split(separator: "\n")
        }
        #expect(lines.count == summary.pairedSamples + summary.textRecords)
        var withImage = 0
        for line in lines {
            let o = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let messages = try #require(o["messages"] as? [[String: Any]])
            if let parts = messages[0]["content"] as? [[String: Any]] {
                withImage += 1
                let url = try #require((parts[0]["image_url"] as? [String: String])?["url"])
                #expect(url.hasPrefix("data:image/jpeg;base64,"))
                let bytes = try #require(Data(base64Encoded: String(url.dropFirst("data:image/jpeg;base64,".count))))
                #expect(bytes.prefix(2) == Data([0xFF, 0xD8]))
            }
        }
        #expect(withImage == summary.pairedSamples)

        // MCQ: the test split in K-Viscuit layout, which eval reads back as the same questions.
        let (format, questions) = try QuestionFileReader.read(dir.appendingPathComponent("mcq_test/mcq_test.jsonl"))
        #expect(format == .kViscuit)
        let original = try EvalStore.questions(in: fixture.workspace, split: "test")
        #expect(questions.count == original.count && !questions.isEmpty)
        #expect(questions.map(\.answer) == original.map(\.answer))
        // Its images (test images) are in the images/ folder beside it, apart from the training exports' images/.
        #expect(questions.allSatisfy { FileManager.default.fileExists(atPath: dir.appendingPathComponent("mcq_test/images/\($0.imagePath ?? "")").path) })
    }
}
