import Foundation

/// OpenAI fine-tuning JSONL: `{"messages": [...]}` a line; paired samples put the image first in the user turn
/// as an `image_url` content part holding a data URL (upright, in the dataset's format), text-only records are
/// plain strings.
struct OpenAIExport: ShardExportFormat {
    let name = "openai"

    func write(_ context: ExportContext) throws -> [String] {
        var lines: [Any] = []
        for sample in context.inputs.paired {
            let image = try context.renderedImage(sample)
            let data = image.data
            let mime = image.mimeType
            var first = true
            let messages: [[String: Any]] = sample.messages.map { m in
                if first && m.role == "user" {
                    first = false
                    return ["role": "user", "content": [
                        ["type": "image_url", "image_url": ["url": "data:\(mime);base64,\(data.base64EncodedString())"]],
                        ["type": "text", "text": m.content],
                    ]]
                }
                return ["role": m.role, "content": m.content]
            }
            lines.append(["messages": messages])
        }
        for record in context.inputs.text {
            lines.append(["messages": record.messages.map { ["role": $0.role, "content": $0.content] }])
        }
        try AtomicFile.write(try ExportContext.jsonLines(lines), to: context.directory.appendingPathComponent("openai.jsonl"))
        return ["openai.jsonl"]
    }
}
