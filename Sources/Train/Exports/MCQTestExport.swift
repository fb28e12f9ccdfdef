import Dataset
import Foundation

/// The test split's questions in the K-Viscuit JSONL layout (`question`, `options`, `answer`, `category`,
/// `id_`, `question_type`, `image_path` under `images/`), which `dsbuild eval --questions` and K-Viscuit's own
/// scripts read. Written by the one K-Viscuit writer (`QuestionFileFormat.kViscuit`), as `mcq --export` does.
struct MCQTestExport: ShardExportFormat {
    let name = "mcq"

    func write(_ context: ExportContext) throws -> [String] {
        var lines: [Any] = []
        for q in context.testQuestions {
            var record = QuestionRecord(id: q.id, type: q.type, question: q.question, options: q.options, answer: q.answer,
                                        category: q.category, split: "test", origin: "generated", keyword: q.keyword)
            if let path = q.imagePath {
                let url = URL(fileURLWithPath: path)
                let sha = url.deletingPathExtension().lastPathComponent
                let storePath = url.path.hasPrefix(context.workspace.root.path + "/")
                    ? String(url.path.dropFirst(context.workspace.root.path.count + 1)) : url.path
                let placed = try context.placeImage(sha256: sha, format: url.pathExtension, storePath: storePath)
                record.imagePath = String(placed.dropFirst("images/".count))
            }
            lines.append(QuestionFileFormat.kViscuit.object(for: record))
        }
        try AtomicFile.write(try ExportContext.jsonLines(lines), to: context.directory.appendingPathComponent("mcq_test.jsonl"))
        return ["mcq_test.jsonl"]
    }
}
