import Foundation

/// LLaMA-Factory's sharegpt format: `{"messages": [{"role", "content"}], "images": [paths]}` with one `<image>`
/// tag per image, paired and text-only as two datasets registered in `dataset_info.json` (mix them by listing
/// both in `dataset:`). Image paths are relative to the dataset dir (this exports folder).
struct LLaMAFactoryExport: ShardExportFormat {
    let name = "llama-factory"

    func write(_ context: ExportContext) throws -> [String] {
        var paired: [Any] = []
        for sample in context.inputs.paired {
            let image = try context.placeImage(sample)
            paired.append(["messages": messages(sample.messages, image: true), "images": [image]])
        }
        let text: [Any] = context.inputs.text.map { ["messages": messages($0.messages, image: false)] }
        let tags = ["role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"]
        let info: [String: Any] = [
            "dsbuild_paired": ["file_name": "llama_factory_paired.json", "formatting": "sharegpt",
                               "columns": ["messages": "messages", "images": "images"], "tags": tags],
            "dsbuild_text": ["file_name": "llama_factory_text.json", "formatting": "sharegpt",
                             "columns": ["messages": "messages"], "tags": tags],
        ]
        try AtomicFile.write(try ExportContext.jsonData(paired, pretty: true), to: context.directory.appendingPathComponent("llama_factory_paired.json"))
        try AtomicFile.write(try ExportContext.jsonData(text, pretty: true), to: context.directory.appendingPathComponent("llama_factory_text.json"))
        try AtomicFile.write(try ExportContext.jsonData(info, pretty: true), to: context.directory.appendingPathComponent("dataset_info.json"))
        return ["llama_factory_paired.json", "llama_factory_text.json", "dataset_info.json"]
    }

    private func messages(_ messages: [(role: String, content: String)], image: Bool) -> [[String: String]] {
        var first = true
        return messages.map { m in
            var content = m.content
            if image && first && m.role == "user" { content = "<image>" + content; first = false }
            return ["role": m.role, "content": content]
        }
    }
}
