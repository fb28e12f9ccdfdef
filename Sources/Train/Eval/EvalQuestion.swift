import Dataset
import Foundation

/// One multiple-choice question to score, whatever file or table it came from.
public struct EvalQuestion: Sendable, Equatable {
    public var id: String
    /// 1: recognition, 2: reasoning (0 when the source does not say).
    public var type: Int
    public var question: String
    public var options: [String]
    public var answer: Int
    public var category: String?
    /// Where the image is: absolute, or relative to the images directory.
    public var imagePath: String?
    /// The keyword the question is about, when known (for `description-only`).
    public var keyword: String?
    /// Why the question's image may not be sent (`QuestionImageSource` refused it); asked with the image, the
    /// question is unaskable.
    public var imageProblem: String?

    public init(id: String, type: Int, question: String, options: [String], answer: Int, category: String? = nil,
                imagePath: String? = nil, keyword: String? = nil) {
        self.id = id
        self.type = type
        self.question = question
        self.options = options
        self.answer = answer
        self.category = category
        self.imagePath = imagePath
        self.keyword = keyword
    }

    /// The question with its options rotated by `shift` (CircularEval): option i moves to (i + shift) mod n.
    public func rotated(by shift: Int) -> EvalQuestion {
        let n = options.count
        guard n > 0, shift % n != 0 else { return self }
        var copy = self
        var rotated = Array(repeating: "", count: n)
        for (i, option) in options.enumerated() { rotated[(i + shift) % n] = option }
        copy.options = rotated
        copy.answer = (answer + shift) % n
        return copy
    }
}

extension EvalQuestion {
    /// The question a file record asks (its image path as the file wrote it).
    public init(record r: QuestionRecord) {
        self.init(id: r.id, type: r.type, question: r.question, options: r.options, answer: r.answer, category: r.category,
                  imagePath: r.imagePath, keyword: r.keyword)
    }
}

/// Reads questions to score from a file in any `QuestionFileFormat` (the one reader per format in Dataset).
public enum QuestionFileReader {
    public static func read(_ url: URL, format: QuestionFileFormat? = nil) throws(QuestionFileError) -> (format: QuestionFileFormat, questions: [EvalQuestion]) {
        let (detected, records) = try QuestionFile.read(url, format: format)
        return (detected, QuestionFile.inferringKeywords(records).map(EvalQuestion.init(record:)))
    }

    /// The questions with each file image path checked against `source` (`QuestionImageSource`'s rule): a path
    /// it lets through becomes the real absolute path; any other keeps no path and says why in `imageProblem`.
    public static func placingImages(_ questions: [EvalQuestion], in source: QuestionImageSource) -> [EvalQuestion] {
        questions.map { question in
            guard let path = question.imagePath else { return question }
            var q = question
            do throws(QuestionImageError) {
                q.imagePath = try source.read(path).url.path
            } catch {
                q.imagePath = nil
                q.imageProblem = "question \(q.id): \(error.description)"
                    + (error.refused ? "" : "; point --images at the folder holding it")
            }
            return q
        }
    }

    public static func parse(_ text: String, file: String, format: QuestionFileFormat? = nil) throws(QuestionFileError) -> (format: QuestionFileFormat, questions: [EvalQuestion]) {
        let (detected, records) = try QuestionFile.parse(text, file: file, format: format)
        return (detected, QuestionFile.inferringKeywords(records).map(EvalQuestion.init(record:)))
    }
}
