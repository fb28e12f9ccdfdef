import Dataset
import Foundation

/// The questions an evaluation scores and where they came from: a question file in any `QuestionFileFormat`
/// (with the folder its images resolve in), or the accepted questions of a workspace split.
public struct EvalQuestionSet: Sendable {
    public var items: [EvalItem]
    /// How the report names the source: `file.jsonl (k-viscuit)`, `workspace:test`, `workspace:k-viscuit:test`.
    public var source: String
    /// Where a file's image paths resolve (nil for workspace questions, whose image paths are absolute).
    public var imagesDirectory: URL?

    public init(items: [EvalItem], source: String, imagesDirectory: URL? = nil) {
        self.items = items
        self.source = source
        self.imagesDirectory = imagesDirectory
    }

    /// A question file; `images` (default: `images/` beside the file) is where its image paths resolve. With
    /// `placingImages`, each image path is checked by `QuestionImageSource`'s rule: only files inside that folder
    /// are read, only images are sent, and a refused one makes its question unaskable with the image.
    public static func file(_ url: URL, format: QuestionFileFormat?, images: URL?, placingImages: Bool) throws(QuestionFileError) -> EvalQuestionSet {
        let read = try QuestionFileReader.read(url, format: format)
        let folder = images ?? url.deletingLastPathComponent().appendingPathComponent("images")
        let items = placingImages
            ? QuestionFileReader.placingImages(read.questions, in: QuestionImageSource(folder: folder))
            : read.questions.map { EvalItem($0) }
        return EvalQuestionSet(items: items, source: "\(url.lastPathComponent) (\(read.format.rawValue))", imagesDirectory: folder)
    }

    /// The accepted questions of `split` in the workspace, of one origin (`generated`, `k-viscuit`…) or of every
    /// origin (`all`).
    public static func workspace(_ workspace: Workspace, split: String, origin: String) throws -> EvalQuestionSet {
        let questions = try EvalStore.questions(in: workspace, split: split, origin: origin == "all" ? nil : origin)
        return EvalQuestionSet(items: questions.map { EvalItem($0) },
                               source: origin == "generated" ? "workspace:\(split)" : "workspace:\(origin):\(split)")
    }
}
