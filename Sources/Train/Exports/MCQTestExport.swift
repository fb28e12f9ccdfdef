import Dataset
import Foundation

/// The test split's questions in the K-Viscuit JSONL layout (`question`, `options`, `answer`, `category`,
/// `id_`, `question_type`, `image_path` relative to `mcq_images/`), which `dsbuild eval --questions` and
/// K-Viscuit's own scripts read. Its images (test images, upright, in the dataset's format) are kept apart from
/// the training exports' `images/`.
struct MCQTestExport: ShardExportFormat {
    let name = "mcq"
    static let imageFolder = "mcq_images"

    func write(_ context: ExportContext) throws -> [String] {
        var lines: [Any] = []
        for q in context.testQuestions {
            var record = QuestionRecord(id: q.id, type: q.type, question: q.question, options: q.options, answer: q.answer,
                                        category: q.category, split: "test", origin: "generated", keyword: q.keyword)
            if let path = q.imagePath {
                let url = URL(fileURLWithPath: path)
                let sha = url.deletingPathExtension().lastPathComponent
                let image = context.inputs.images[sha] ?? StoredImage(
                    sha: sha, path: url.path.hasPrefix(context.workspace.root.path + "/")
                        ? String(url.path.dropFirst(context.workspace.root.path.count + 1)) : url.path,
                    format: ImageFormatName.normalized(url.pathExtension), orientation: 1, bytes: 0)
                let placed = try context.placeImage(image, folder: Self.imageFolder)
                record.imagePath = String(placed.dropFirst(Self.imageFolder.count + 1))
            }
            lines.append(QuestionFileFormat.kViscuit.object(for: record))
        }
        try AtomicFile.write(try ExportContext.jsonLines(lines), to: context.directory.appendingPathComponent("mcq_test.jsonl"))
        return ["mcq_test.jsonl"]
    }
}
