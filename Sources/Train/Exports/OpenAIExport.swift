import Foundation

/// OpenAI fine-tuning JSONL: `{"messages": [...]}` a line, each ending with the assistant's turn. Paired samples put
/// the image first in the user turn as an `image_url` content part holding a data URL — upright, in the dataset's
/// format and resize, then made to fit OpenAI's rules (`ImageLimits.openAI`: RGB or RGBA, at most 10 MB); text-only
/// records are plain strings.
///
/// Validation: the samples of a seeded draw of the training images (`ValidationImages`, `shards.openai.validation_fraction`
/// and `.seed`) and the text written from those images go to `openai_validation.jsonl`, the rest to `openai.jsonl`;
/// test images never reach an export, so neither file holds anything of one. Each file is cut into numbered parts
/// (`openai-00001.jsonl`, …) when it would pass `shards.openai.max_file_bytes`.
struct OpenAIExport: ShardExportFormat {
    let name = "openai"
    static let train = "openai"
    static let validation = "openai_validation"

    func write(_ context: ExportContext) throws -> [String] {
        let settings = context.openAI
        let held = ValidationImages.draw(Set(context.inputs.paired.map(\.image.sha)), fraction: settings.validationFraction, seed: settings.seed)
        var train: [Data] = [], validation: [Data] = []
        for sample in context.inputs.paired {
            let rendered = try context.renderer.fitting(try context.renderedImage(sample), of: sample.image, to: .openAI)
            let url = "data:\(rendered.mimeType);base64,\(rendered.data.base64EncodedString())"
            var first = true
            let messages: [[String: Any]] = sample.messages.map { m in
                if first && m.role == "user" {
                    first = false
                    return ["role": "user", "content": [
                        ["type": "image_url", "image_url": ["url": url]],
                        ["type": "text", "text": m.content],
                    ]]
                }
                return ["role": m.role, "content": m.content]
            }
            let line = try Self.line(messages, item: "paired sample \(sample.key)")
            if held.contains(sample.image.sha) { validation.append(line) } else { train.append(line) }
        }
        for record in context.inputs.text {
            let line = try Self.line(record.messages.map { ["role": $0.role, "content": $0.content] }, item: "text record \(record.id)")
            if let sha = record.imageSHA256, held.contains(sha) { validation.append(line) } else { train.append(line) }
        }
        var written = try Self.writeParts(train, stem: Self.train, limit: settings.maxFileBytes, in: context.directory)
        written += try Self.writeParts(validation, stem: Self.validation, limit: settings.maxFileBytes, in: context.directory)
        // Parts of an earlier run (more parts, or one file where there are parts now) leave.
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: context.directory.path)) ?? []
        where Self.isPart(name) && !written.contains(name) {
            try? fm.removeItem(at: context.directory.appendingPathComponent(name))
        }
        return written
    }

    /// One JSONL line; the chat must end with the assistant's turn (every shard record does).
    private static func line(_ messages: [[String: Any]], item: String) throws -> Data {
        guard messages.last?["role"] as? String == "assistant" else {
            throw ShardError(.write, "openai: \(item) does not end with an assistant turn")
        }
        var data = try ExportContext.jsonData(["messages": messages])
        data.append(0x0A)
        return data
    }

    /// `stem.jsonl` when the lines fit in one file of at most `limit` bytes, else `stem-00001.jsonl`, … each within it;
    /// nothing for no lines.
    static func writeParts(_ lines: [Data], stem: String, limit: Int, in directory: URL) throws -> [String] {
        guard !lines.isEmpty else { return [] }
        var parts: [Data] = [Data()]
        for line in lines {
            guard line.count <= limit else {
                throw ShardError(.write, "openai: one example is \(line.count) bytes, more than shards.openai.max_file_bytes (\(limit)); raise it")
            }
            if parts[parts.count - 1].count + line.count > limit { parts.append(Data()) }
            parts[parts.count - 1].append(line)
        }
        var names: [String] = []
        for (i, part) in parts.enumerated() {
            let name = parts.count == 1 ? "\(stem).jsonl" : String(format: "%@-%05d.jsonl", stem, i + 1)
            try AtomicFile.write(part, to: directory.appendingPathComponent(name))
            names.append(name)
        }
        return names
    }

    /// Whether `name` is a file this export writes (`openai.jsonl`, `openai-00002.jsonl`, `openai_validation.jsonl`, …).
    static func isPart(_ name: String) -> Bool {
        for stem in [train, validation] {
            if name == "\(stem).jsonl" { return true }
            let prefix = "\(stem)-", suffix = ".jsonl"
            if name.hasPrefix(prefix), name.hasSuffix(suffix) {
                let digits = name.dropFirst(prefix.count).dropLast(suffix.count)
                if digits.count == 5, digits.allSatisfy(\.isNumber) { return true }
            }
        }
        return false
    }
}
