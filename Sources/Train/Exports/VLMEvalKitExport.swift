import Dataset
import Foundation

/// VLMEvalKit's custom multiple-choice TSV (put it in `$LMUData` and run `--data dsbuild_mcq`): the test split's
/// questions, one row each, with `index`, `question`, one column per option letter (`A`…), `answer` as a letter,
/// `category`, `l2-category` (`type1` recognition, `type2` reasoning), dsbuild's `id` and `keyword`, and `image`:
/// the base64 of the rendered image (upright, in the dataset's format and resize) — or, for an image an earlier
/// row already holds, that row's index, as VLMEvalKit's `ImageBaseDataset` resolves it.
///
/// A question is shown with its image exactly when eval asks it so: one linked to an image goes to
/// `vlmevalkit/dsbuild_mcq.tsv` (VLMEvalKit's `CustomMCQDataset`); one without an image to
/// `vlmevalkit/dsbuild_mcq_text.tsv`, which has no image column (its `CustomTextMCQDataset`) — an empty image
/// cell would make VLMEvalKit drop the row. A question with a cell pandas reads as missing (`None`, `NA`, …) is left
/// out with a line saying so, and so is one with a cell pandas reads as a number or a boolean (`1988` → 1988.0, `007` →
/// 7, `TRUE` → True: VLMEvalKit reads the TSV without a dtype) — question, options, category and keyword alike; a
/// keyword or category spelled so (`None`, `1988`) costs its questions here only: rename it to keep them. An empty
/// category is written as the keyword, else `uncategorised`.
struct VLMEvalKitExport: ShardExportFormat {
    let name = "vlmevalkit"
    func owns(_ entry: String) -> Bool { entry == Self.folder }
    static let folder = "vlmevalkit"
    static let dataset = "dsbuild_mcq"
    static var imageFile: String { "\(folder)/\(dataset).tsv" }
    static var textFile: String { "\(folder)/\(dataset)_text.tsv" }

    func write(_ context: ExportContext) throws -> [String] {
        guard context.hasTestQuestions(name, removing: [Self.folder]) else { return [] }
        var withImage: [(Question, RenderedImage)] = []
        var textOnly: [Question] = []
        for q in context.testQuestions {
            let cells = [q.question] + q.options + [Self.category(q), Self.keyword(q)]
            if let bad = cells.first(where: { TSVWriter.pandasMissing.contains($0) }) {
                context.problems.add("vlmevalkit: question \(q.id) left out: \(bad.isEmpty ? "an empty cell" : "the cell \"\(bad)\"") reads back as missing in pandas (VLMEvalKit's reader)")
                continue
            }
            if let bad = cells.first(where: TSVWriter.pandasConverts) {
                context.problems.add("vlmevalkit: question \(q.id) left out: the cell \"\(bad)\" reads back as a number or a boolean in pandas (VLMEvalKit's reader reads without dtype), not as this text")
                continue
            }
            if let image = context.image(of: q) {
                withImage.append((q, try context.renders.render(image, with: context.renderer)))
            } else {
                textOnly.append(q)
            }
        }
        let letters = QuestionVocabulary.letters.prefix(context.testQuestions.map(\.options.count).max() ?? 0)
        let header = ["index", "question"] + letters + ["answer", "category", "l2-category", "id", "keyword"]
        let fm = FileManager.default
        let dir = context.directory.appendingPathComponent(Self.folder)
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        var written: [String] = []
        var index = 0
        // One file per reader class; an empty one is not written (and an earlier run's goes).
        for (file, questions, images) in [(Self.imageFile, withImage.map(\.0), withImage.map(\.1) as [RenderedImage]?),
                                          (Self.textFile, textOnly, nil)] {
            let url = context.directory.appendingPathComponent(file)
            guard !questions.isEmpty else { try? fm.removeItem(at: url); continue }
            var tsv = TSVWriter()
            tsv.row(header + (images == nil ? [] : ["image"]))
            var firstRow: [String: Int] = [:]
            for (i, q) in questions.enumerated() {
                index += 1
                var row = ["\(index)", q.question]
                row += letters.indices.map { q.options.indices.contains($0) ? q.options[$0] : "" }
                row += [q.answerLetter, Self.category(q), q.type == 1 ? "type1" : q.type == 2 ? "type2" : "type\(q.type)",
                        q.id, Self.keyword(q)]
                if let image = images?[i] {
                    if let first = firstRow[image.writtenSHA256] {
                        row.append("\(first)")
                    } else {
                        firstRow[image.writtenSHA256] = index
                        row.append(image.data.base64EncodedString())
                    }
                }
                tsv.row(row)
            }
            try AtomicFile.write(Data(tsv.text.utf8), to: url)
            written.append(file)
        }
        return written
    }

    /// The category cell: the question's category, else its keyword, else `uncategorised` (an empty cell reads as NaN).
    static func category(_ q: Question) -> String {
        [q.category, q.keyword].compactMap { $0 }.first { !$0.isEmpty } ?? "uncategorised"
    }

    /// The keyword cell: the question's keyword, else its category cell.
    static func keyword(_ q: Question) -> String {
        q.keyword.flatMap { $0.isEmpty ? nil : $0 } ?? category(q)
    }
}
