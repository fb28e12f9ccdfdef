import Dataset
import Foundation

/// The user turns that shard records put before the dataset's text. Templates are plain text with a
/// `{keyword}` placeholder; their content hash travels in each record's provenance (`chat_template_sha256`).
public enum ChatTemplates {
    /// The user turn before a text-only description of `aspect`: no mention of an image (`Aspect.textTurn`).
    static func describeText(_ aspect: String) -> String { Aspect.resolved(aspect).shardTextTurn }

    /// The paired user turn of `aspect`: the image is inserted before this text by the trainer (`Aspect.imageTurn`).
    static func describeImage(_ aspect: String) -> String { Aspect.resolved(aspect).shardImageTurn }

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

    /// Hash of every turn above and every aspect's own turns: changes when any wording changes.
    static let sha256: String = {
        var parts: [String] = []
        let aspects = Aspect.builtin.sorted { $0.name < $1.name }
        for aspect in aspects { if let turn = aspect.textTurn { parts.append("t.\(aspect.name)=\(turn)") } }
        for aspect in aspects { if let turn = aspect.imageTurn { parts.append("i.\(aspect.name)=\(turn)") } }
        parts += [Aspect.genericTextTurn, Aspect.genericImageTurn, captionUser, captionAssistant, mcqSuffix]
        return ContentHash.sha256Hex(parts.joined(separator: "\n"))
    }()
}
