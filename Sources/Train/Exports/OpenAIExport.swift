import Foundation

/// OpenAI fine-tuning JSONL: `{"messages": [...]}` a line, each ending with the assistant's turn. Paired samples put
/// the image first in the user turn as an `image_url` content part holding a data URL — upright, in the dataset's
/// format and resize, then made to fit OpenAI's rules (`ImageLimits.openAI`: RGB or RGBA, at most 10 MB); text-only
/// records are plain strings.
///
/// Validation: the samples of a seeded draw of the training images (`ValidationImages`, `shards.openai.validation_fraction`
/// and `.seed`) and the text written from those images go to `openai_validation.jsonl`, the rest to `openai.jsonl`; a
/// description goes whole to one side (its text record with its paired samples, also a keyword-level one paired with
/// a drawn image), so no description is a target in both files;
/// test images never reach an export, so neither file holds anything of one. Each file is cut into numbered parts
/// (`openai-00001.jsonl`, …) when it would pass `shards.openai.max_file_bytes`.
struct OpenAIExport: ShardExportFormat {
    let name = "openai"
    func owns(_ entry: String) -> Bool { Self.isPart(entry) }
    static let train = "openai"
    static let validation = "openai_validation"

    func write(_ context: ExportContext) throws -> [String] {
        let settings = context.openAI
        let held = ValidationImages.draw(Set(context.inputs.paired.map(\.image.sha)), fraction: settings.validationFraction, seed: settings.seed)
        // A description trains or validates as a whole: its text record and every paired sample of it (a keyword-level
        // description is paired with the keyword's first training image) go to the side any of them is drawn to, so
        // no assistant target of the validation file is also a training target.
        let heldDescriptions = Set(context.inputs.paired.filter { $0.kind == "description" && held.contains($0.image.sha) }.map(\.text))
        func validates(_ sample: PairedSample) -> Bool {
            held.contains(sample.image.sha) || (sample.kind == "description" && heldDescriptions.contains(sample.text))
        }
        var train: [Line] = [], validation: [Line] = []
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
            let line = Line(item: "paired sample \(sample.key)", data: try Self.line(messages, item: "paired sample \(sample.key)"))
            if validates(sample) { validation.append(line) } else { train.append(line) }
        }
        for record in context.inputs.text {
            let line = Line(item: "text record \(record.id)", data: try Self.line(record.messages.map { ["role": $0.role, "content": $0.content] }, item: "text record \(record.id)"))
            let validating = record.imageSHA256.map(held.contains) ?? false || (record.kind == "description" && heldDescriptions.contains(record.text))
            if validating { validation.append(line) } else { train.append(line) }
        }
        var written = try Self.writeParts(train, stem: Self.train, limit: settings.maxFileBytes, in: context.directory, problems: context.problems)
        written += try Self.writeParts(validation, stem: Self.validation, limit: settings.maxFileBytes, in: context.directory, problems: context.problems)
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

    /// One example: what it is (for a problem line) and its JSONL line.
    struct Line {
        var item: String
        var data: Data
    }

    /// `stem.jsonl` when the lines fit in one file of at most `limit` bytes, else `stem-00001.jsonl`, … each within it;
    /// nothing for no lines. An example longer than `limit` is left out with a problem line naming it. When the last
    /// part would hold fewer than `OpenAIExportSettings.minExamples`, the parts are cut evenly by count instead (when each
    /// still fits); a file still holding fewer gets a note naming it (OpenAI refuses such a file).
    static func writeParts(_ lines: [Line], stem: String, limit: Int, in directory: URL, problems: ExportProblems) throws -> [String] {
        var parts: [[Line]] = [[]]
        var size = 0
        for line in lines {
            guard line.data.count <= limit else {
                problems.add("openai: \(line.item) left out: it is \(line.data.count) bytes, more than shards.openai.max_file_bytes (\(limit)); raise it")
                continue
            }
            if size + line.data.count > limit { parts.append([]); size = 0 }
            parts[parts.count - 1].append(line)
            size += line.data.count
        }
        guard !parts[0].isEmpty else { return [] }
        let least = OpenAIExportSettings.minExamples
        // A last part with too few examples: the same number of parts cut evenly by count, when each still fits.
        if parts.count > 1, parts[parts.count - 1].count < least {
            let lines = parts.flatMap { $0 }, per = (lines.count + parts.count - 1) / parts.count
            let even = stride(from: 0, to: lines.count, by: per).map { Array(lines[$0..<min($0 + per, lines.count)]) }
            if even.allSatisfy({ $0.reduce(0) { $0 + $1.data.count } <= limit }) { parts = even }
        }
        var names: [String] = []
        for (i, part) in parts.enumerated() {
            let name = parts.count == 1 ? "\(stem).jsonl" : String(format: "%@-%05d.jsonl", stem, i + 1)
            try AtomicFile.write(part.reduce(into: Data()) { $0.append($1.data) }, to: directory.appendingPathComponent(name))
            if part.count < least {
                problems.note("openai: \(name) holds \(part.count) example(s); OpenAI asks for at least \(least) a file (more samples, a larger shards.openai.max_file_bytes or validation_fraction)")
            }
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
