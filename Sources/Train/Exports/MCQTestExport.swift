import Foundation

/// The test split's questions in the K-Viscuit JSONL layout (`question`, `options`, `answer`, `category`,
/// `id_`, `question_type`, `image_path` under `images/`), which `dsbuild eval --questions` and K-Viscuit's own
/// scripts read.
struct MCQTestExport: ShardExportFormat {
    let name = "mcq"

    func write(_ context: ExportContext) throws -> [String] {
        var lines: [Any] = []
        for q in context.testQuestions {
            var o: [String: Any] = ["id_": q.id, "question_type": q.type, "question": q.question, "options": q.options,
                                    "answer": q.answer, "category": q.category ?? ""]
            if let path = q.imagePath {
                let url = URL(fileURLWithPath: path)
                let sha = url.deletingPathExtension().lastPathComponent
                let storePath = url.path.hasPrefix(context.workspace.root.path + "/")
                    ? String(url.path.dropFirst(context.workspace.root.path.count + 1)) : url.path
                let placed = try context.placeImage(sha256: sha, format: url.pathExtension, storePath: storePath)
                o["image_path"] = String(placed.dropFirst("images/".count))
            }
            if let keyword = q.keyword { o["keyword"] = keyword }
            lines.append(o)
        }
        try AtomicFile.write(try ExportContext.jsonLines(lines), to: context.directory.appendingPathComponent("mcq_test.jsonl"))
        return ["mcq_test.jsonl"]
    }
}
