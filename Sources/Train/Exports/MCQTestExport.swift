import Dataset
import Foundation

/// The test split's questions in the K-Viscuit JSONL layout (`question`, `options`, `answer`, `category`,
/// `id_`, `question_type`, `image_path` relative to the `images/` folder beside the file), which `dsbuild eval
/// --questions` and K-Viscuit's own scripts read. The file and its images (test images, upright, in the dataset's
/// format) live in their own folder, `exports/mcq_test/`, apart from the training exports' `exports/images/`.
struct MCQTestExport: ShardExportFormat {
    let name = "mcq"
    func owns(_ entry: String) -> Bool { [Self.folder, "mcq_test.jsonl", "mcq_images"].contains(entry) }
    /// The folder of the file and its images, relative to `exports/`.
    static let folder = "mcq_test"
    static let file = "mcq_test/mcq_test.jsonl"
    static let imageFolder = "mcq_test/images"

    func write(_ context: ExportContext) throws -> [String] {
        // Earlier versions wrote the file at exports/ with its images in mcq_images/: not a second, stale copy.
        for legacy in ["mcq_test.jsonl", "mcq_images"] { try? FileManager.default.removeItem(at: context.directory.appendingPathComponent(legacy)) }
        guard context.hasTestQuestions(name, removing: [Self.folder]) else { return [] }
        let lines = try Self.records(context, imageFolder: Self.imageFolder)
        try AtomicFile.write(try ExportContext.jsonLines(lines), to: context.directory.appendingPathComponent(Self.file))
        return [Self.file]
    }

    /// The test questions as K-Viscuit records, their images placed under `imageFolder` (relative to `exports/`)
    /// and named relative to it.
    static func records(_ context: ExportContext, imageFolder: String) throws -> [Any] {
        var lines: [Any] = []
        for q in context.testQuestions {
            // The question as asked, with the split and origin a reader of this file needs; no stored extras.
            var record = Question(id: q.id, type: q.type, question: q.question, options: q.options, answer: q.answer,
                                  category: q.category, split: "test", origin: "generated", keyword: q.keyword)
            if let image = context.image(of: q) {
                let placed = try context.placeImage(image, folder: imageFolder)
                record.imagePath = String(placed.dropFirst(imageFolder.count + 1))
            }
            lines.append(QuestionFileFormat.kViscuit.object(for: record))
        }
        return lines
    }
}
