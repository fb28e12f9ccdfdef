import Dataset
import Foundation

/// The user turns that shard records put before the dataset's text. Templates are plain text with a
/// `{keyword}` placeholder; their content hash travels in each record's provenance (`chat_template_sha256`).
public enum ChatTemplates {
    /// Text-only: no mention of an image.
    static let describeText: [String: String] = [
        "visual": "Describe what the {keyword} looks like.",
        "cultural": "Tell me about the history and cultural meaning of the {keyword}.",
        "historical": "Tell me about the history of the {keyword}.",
        "ecological": "Describe the habitat and ecology of the {keyword}.",
    ]
    static let describeTextDefault = "Describe the {keyword}."

    /// Paired: the image is inserted before this text by the trainer.
    static let describeImage: [String: String] = [
        "visual": "Describe the {keyword} in this image.",
        "cultural": "This image shows the {keyword}. Tell me about its history and cultural meaning.",
        "historical": "This image shows the {keyword}. Tell me about its history.",
        "ecological": "This image shows the {keyword}. Describe its habitat and ecology.",
    ]
    static let describeImageDefault = "Describe the {keyword} in this image."

    static let captionUser = "What is shown in this image?"
    static let captionAssistant = "This image shows {keyword}."

    /// The multiple-choice convention: the one vocabulary in `Dataset/Questions` (shared with eval and mcq).
    public static let mcqSuffix = QuestionVocabulary.instruction
    public static let letters = QuestionVocabulary.letters

    public static func mcqPrompt(question: String, options: [String]) -> String {
        QuestionVocabulary.prompt(question: question, options: options)
    }

    static func fill(_ template: String, keyword: String) -> String {
        template.replacingOccurrences(of: "{keyword}", with: keyword)
    }

    /// Hash of every template above: changes when any wording changes.
    static let sha256: String = {
        var parts: [String] = []
        for (k, v) in describeText.sorted(by: { $0.key < $1.key }) { parts.append("t.\(k)=\(v)") }
        for (k, v) in describeImage.sorted(by: { $0.key < $1.key }) { parts.append("i.\(k)=\(v)") }
        parts += [describeTextDefault, describeImageDefault, captionUser, captionAssistant, mcqSuffix]
        return ContentHash.sha256Hex(parts.joined(separator: "\n"))
    }()
}
