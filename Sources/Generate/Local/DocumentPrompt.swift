import Dataset
import Foundation

/// How a pretrained base model (`llm.local.prompting: document`) is asked. Such a model follows no instruction
/// and knows no chat turns — served with a chat template it was never trained on, it writes template tokens and
/// unrelated text — but it continues a document. So the server renders a conversation as the plain concatenation of
/// its messages, and each request is the start of a document the answer naturally continues: an encyclopedia
/// entry's section led by the subject's name for a description, a worked example then the next subject's question
/// for a Type 2 question (whose JSON llama.cpp's grammar still enforces).
public enum DocumentPrompt {
    /// The Jinja chat template the server is given (`--jinja --chat-template`): the messages' text, concatenated.
    /// A last assistant message is continued (the request's `lead`).
    public static let serverTemplate = "{%- for message in messages -%}{{- message.content -}}{%- endfor -%}"

    /// A description ends at its paragraph's end.
    public static let descriptionStop = ["\n\n"]

    /// The description document of an aspect: its worked example as an entry of its own, then the subject's entry
    /// up to the section heading, continued from `descriptionLead`. `{keyword}` and `{category}` are filled by the stage.
    public static func description(_ section: Aspect.DocumentSection) -> String {
        "Encyclopedia of \(section.exampleCategory)\n\n\(section.exampleSubject)\n\n\(section.heading): \(section.example)\n\n"
            + "Encyclopedia of {category}\n\n{keyword}\n\n\(section.heading): "
    }

    /// The reply's start: the subject's name, so the section is about it.
    public static let descriptionLead = "{keyword}"

    /// The worked example of a Type 2 document: a subject no recipe is about, and its question.
    public struct QuestionExample: Sendable {
        public let subject: String
        public let category: String
        public let known: String
        public let question: String
        public let answer: String
        public let distractors: [String]
        public let aspect: String
        public let rationale: String

        /// The reply as the schema asks for it (fields in the schema's order).
        public var json: String {
            func quoted(_ text: String) -> String {
                String(decoding: (try? JSONSerialization.data(withJSONObject: [text], options: .withoutEscapingSlashes)) ?? Data(), as: UTF8.self)
                    .dropFirst().dropLast().description
            }
            return #"{"question": \#(quoted(question)), "answer": \#(quoted(answer)), "distractors": [\#(distractors.map(quoted).joined(separator: ", "))], "aspect": \#(quoted(aspect)), "rationale": \#(quoted(rationale))}"#
        }

        /// What a reply may not copy from it.
        public var copy: ExampleCopy {
            ExampleCopy(subject: subject, texts: [known, question, rationale], options: [answer] + distractors)
        }
    }

    public static let typeTwoExample = QuestionExample(
        subject: "Red fox", category: "animal",
        known: "The red fox is a small wild dog with reddish-orange fur on its back, a white chest and a bushy tail with a white tip.",
        question: "What colour is the fur on the back of a red fox?", answer: "Reddish orange",
        distractors: ["Pale grey", "Black with white spots", "Dark brown"], aspect: "visual",
        rationale: "Its back is covered in reddish-orange fur.")

    /// The Type 2 document: the worked example, then the subject with what is known of it. `{keyword}`,
    /// `{category}`, `{descriptions}` are filled by the stage.
    public static let typeTwo = """
        Multiple-choice quiz questions, each with its correct answer and three wrong distractors.

        Subject: \(typeTwoExample.subject) (\(typeTwoExample.category))
        Known: \(typeTwoExample.known)
        Question: \(typeTwoExample.json)

        Subject: {keyword} ({category})
        Known: {descriptions}
        Question: 
        """

    /// What a description may not copy from its aspect's worked example.
    public static func copy(of section: Aspect.DocumentSection) -> ExampleCopy {
        ExampleCopy(subject: section.exampleSubject, texts: [section.example])
    }

    /// The longest `Known:` text of a Type 2 document, in characters: a base model loses the pattern in a long one.
    public static let typeTwoKnownLimit = 600

    /// `setting` for the GGUF `model`: `auto` becomes `chat` when the file carries a chat template, else
    /// `document`; an unreadable file stays `chat` (the server reports what is wrong with it).
    public static func resolve(_ setting: LLMSettings.LocalPrompting, model: URL) -> LLMSettings.LocalPrompting {
        resolution(setting, model: model).prompting
    }

    /// `resolve`, with why the header could not be read when `auto` fell back to `chat` for that reason.
    public static func resolution(_ setting: LLMSettings.LocalPrompting, model: URL)
        -> (prompting: LLMSettings.LocalPrompting, unreadable: String?) {
        guard setting == .auto else { return (setting, nil) }
        do {
            return (try GGUFMetadata.read(model).chatTemplate == nil ? .document : .chat, nil)
        } catch {
            return (.chat, error.description)
        }
    }
}
