import Foundation

/// LLaVA's training JSON: one list of `{"id", "image", "conversations": [{"from": "human", "value": "<image>\n…"},
/// {"from": "gpt", "value": "…"}]}`; `image` is relative to `--image_folder` (this exports folder); text-only
/// records have no `image` and no `<image>` token.
struct LLaVAExport: ShardExportFormat {
    let name = "llava"
    func owns(_ entry: String) -> Bool { entry == "llava.json" }

    func write(_ context: ExportContext) throws -> [String] {
        var items: [Any] = []
        for sample in context.inputs.paired {
            let image = try context.placeImage(sample)
            items.append(["id": sample.key, "image": image, "conversations": conversations(sample.messages, image: true)])
        }
        for record in context.inputs.text {
            items.append(["id": record.id, "conversations": conversations(record.messages, image: false)])
        }
        try AtomicFile.write(try ExportContext.jsonData(items, pretty: true), to: context.directory.appendingPathComponent("llava.json"))
        return ["llava.json"]
    }

    private func conversations(_ messages: [(role: String, content: String)], image: Bool) -> [[String: String]] {
        var first = true
        return messages.map { m in
            var value = m.content
            if image && first && m.role == "user" { value = "<image>\n" + value; first = false }
            return ["from": m.role == "user" ? "human" : "gpt", "value": value]
        }
    }
}
