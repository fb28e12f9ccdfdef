import Foundation

/// LLaMA-Factory's two instruction formats, paired and text-only as separate datasets registered in
/// `dataset_info.json` (mix them by listing several in `dataset:`); image paths are relative to the dataset dir
/// (this exports folder), one `<image>` tag per image, in the first user turn.
/// - sharegpt: `{"messages": [{"role", "content"}], "images": [paths]}` (`dsbuild_paired`, `dsbuild_text`).
/// - alpaca: `{"instruction", "input", "output", "history": [[user, assistant], …], "images": [paths]}` — the last
///   exchange as instruction/output, earlier ones as history (`dsbuild_alpaca_paired`, `dsbuild_alpaca_text`).
struct LLaMAFactoryExport: ShardExportFormat {
    let name = "llama-factory"
    func owns(_ entry: String) -> Bool { entry == "dataset_info.json" || (entry.hasPrefix("llama_factory_") && entry.hasSuffix(".json")) }

    func write(_ context: ExportContext) throws -> [String] {
        var paired: [Any] = [], alpacaPaired: [Any] = []
        for sample in context.inputs.paired {
            let image = try context.placeImage(sample)
            let tagged = messages(sample.messages, image: true)
            paired.append(["messages": tagged, "images": [image]])
            var row = alpaca(tagged)
            row["images"] = [image]
            alpacaPaired.append(row)
        }
        let textMessages = context.inputs.text.map { messages($0.messages, image: false) }
        let text: [Any] = textMessages.map { ["messages": $0] }
        let alpacaText: [Any] = textMessages.map { alpaca($0) }
        let tags = ["role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant"]
        let alpacaColumns = ["prompt": "instruction", "query": "input", "response": "output", "history": "history"]
        var alpacaImageColumns = alpacaColumns
        alpacaImageColumns["images"] = "images"
        let files: [(name: String, rows: [Any])] = [
            ("llama_factory_paired.json", paired), ("llama_factory_text.json", text),
            ("llama_factory_alpaca_paired.json", alpacaPaired), ("llama_factory_alpaca_text.json", alpacaText),
        ]
        let info: [String: Any] = [
            "dsbuild_paired": ["file_name": files[0].name, "formatting": "sharegpt",
                               "columns": ["messages": "messages", "images": "images"], "tags": tags],
            "dsbuild_text": ["file_name": files[1].name, "formatting": "sharegpt",
                             "columns": ["messages": "messages"], "tags": tags],
            "dsbuild_alpaca_paired": ["file_name": files[2].name, "formatting": "alpaca", "columns": alpacaImageColumns],
            "dsbuild_alpaca_text": ["file_name": files[3].name, "formatting": "alpaca", "columns": alpacaColumns],
        ]
        for file in files {
            try AtomicFile.write(try ExportContext.jsonData(file.rows, pretty: true), to: context.directory.appendingPathComponent(file.name))
        }
        try AtomicFile.write(try ExportContext.jsonData(info, pretty: true), to: context.directory.appendingPathComponent("dataset_info.json"))
        return files.map(\.name) + ["dataset_info.json"]
    }

    private func messages(_ messages: [(role: String, content: String)], image: Bool) -> [[String: String]] {
        var first = true
        return messages.map { m in
            var content = m.content
            if image && first && m.role == "user" { content = "<image>" + content; first = false }
            return ["role": m.role, "content": content]
        }
    }

    /// The alpaca row of a chat of user/assistant exchanges: the last as instruction and output, the rest as history.
    private func alpaca(_ messages: [[String: String]]) -> [String: Any] {
        var exchanges: [[String]] = []
        var pending: String?
        for m in messages {
            if m["role"] == "user" { pending = (pending.map { $0 + "\n" } ?? "") + (m["content"] ?? "") }
            else if m["role"] == "assistant" { exchanges.append([pending ?? "", m["content"] ?? ""]); pending = nil }
        }
        let last = exchanges.popLast() ?? ["", ""]
        return ["instruction": last[0], "input": "", "output": last[1], "history": exchanges]
    }
}
