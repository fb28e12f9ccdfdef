import Dataset
import Foundation

/// One question as eval asks it: the question, and why its image may not be sent (`QuestionImageSource` refused
/// it, or it is missing), which makes it unaskable with the image.
public struct EvalItem: Sendable, Equatable {
    public var question: Question
    public var imageProblem: String?

    public init(_ question: Question, imageProblem: String? = nil) {
        self.question = question
        self.imageProblem = imageProblem
    }
}

/// Reads questions to score from a file in any `QuestionFileFormat` (the one reader per format in Dataset),
/// inferring the keyword of questions that have none (`QuestionFile.inferringKeywords`).
public enum QuestionFileReader {
    public static func read(_ url: URL, format: QuestionFileFormat? = nil) throws(QuestionFileError) -> (format: QuestionFileFormat, questions: [Question]) {
        let contents = try QuestionFile.read(url, format: format)
        return (contents.format, QuestionFile.inferringKeywords(contents.questions))
    }

    public static func parse(_ text: String, file: String, format: QuestionFileFormat? = nil) throws(QuestionFileError) -> (format: QuestionFileFormat, questions: [Question]) {
        let contents = try QuestionFile.parse(text, file: file, format: format)
        return (contents.format, QuestionFile.inferringKeywords(contents.questions))
    }

    /// The questions with each file image path checked against `source` (`QuestionImageSource`'s rule): a path
    /// it lets through becomes the real absolute path; any other keeps no path and says why in `imageProblem`.
    public static func placingImages(_ questions: [Question], in source: QuestionImageSource) -> [EvalItem] {
        questions.map { question in
            guard let path = question.imagePath else { return EvalItem(question) }
            var q = question
            do throws(QuestionImageError) {
                q.imagePath = try source.read(path).url.path
                return EvalItem(q)
            } catch {
                q.imagePath = nil
                return EvalItem(q, imageProblem: "question \(q.id): \(error.description)"
                    + (error.refused ? "" : "; point --images at the folder holding it"))
            }
        }
    }
}
