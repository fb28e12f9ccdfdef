import Dataset
import Foundation

/// What the relevance judge answered about one image: the option it chose (verbatim), how sure it is, and why.
public struct RelevanceVerdict: Sendable, Equatable {
    public let choice: String
    public let confidence: Double
    public let reason: String

    public init(choice: String, confidence: Double, reason: String) {
        self.choice = choice
        self.confidence = confidence
        self.reason = reason
    }
}

/// Asks a vision model which of a list of options an image shows. Implemented over `ChatService` in
/// `VLMRelevanceJudge`; a protocol so tests can script it.
public protocol RelevanceJudging: Sendable {
    /// What makes its verdicts differ (the model, the prompt's version): part of the rule's settings hash, so a
    /// new model or prompt judges every image again.
    var identity: String { get }
    /// The option the image shows, one of `options` verbatim. Throws `JudgeError`: `unreadableImage` when
    /// the image cannot be shown; any other error leaves the image undecided.
    func judge(imageAt url: URL, options: [String], category: String?) async throws -> RelevanceVerdict
}
