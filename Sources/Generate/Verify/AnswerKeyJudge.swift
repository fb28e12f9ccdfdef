import Dataset
import Foundation
import Imaging

/// Asks a verifier model, through any `ChatService` (cached, paced and counted like every LLM call), to answer a
/// multiple-choice question with what a careful person would have — never its key — and to say whether more than
/// one option is defensible.
///
/// The request: one user message whose first part is text — the template's instructions, then for a Type 2
/// question each description it was written from as `\n\n<description>\n…\n</description>`, then
/// `\n\n<question>\n`, the stem, one `A. …` line per option (`QuestionVocabulary`'s layout, without its closing
/// instruction), `\n</question>` — and, when the question has an image, a second part: the image as a JPEG data URL,
/// a thumbnail (`Thumbnailer`, EXIF orientation applied, longest side `maxSide`). Neither the key, nor the keyword,
/// nor the rationale is sent. Temperature 0, the JSON schema `{"answer": "A|B|C|D", "ambiguous": bool, "reason":
/// "…"}` (`response_format` name `answer_key_judgement`, the letters as many as the options), purpose `mcq.verify`.
/// A request that fails throws `JudgeError`: no verdict, the question stays as it is and pending.
public struct AnswerKeyJudge: Sendable {
    /// The completion limit of a verdict request.
    public static let maxTokens = 300

    /// The verifier's answer to one question.
    public struct Verdict: Sendable, Equatable {
        /// The option it chose (0-based).
        public var answer: Int
        /// It found more than one option defensible.
        public var ambiguous: Bool
        public var reason: String
        public var requestKey: String

        public init(answer: Int, ambiguous: Bool, reason: String, requestKey: String) {
            self.answer = answer
            self.ambiguous = ambiguous
            self.reason = reason
            self.requestKey = requestKey
        }

        /// Why a key is disputed (`wrong_key`: the verifier chose another option; `ambiguous`), nil when it is
        /// confirmed.
        public func dispute(key: Int) -> String? {
            if answer != key { return "wrong_key" }
            return ambiguous ? "ambiguous" : nil
        }
    }

    public let service: any ChatService
    public let model: String
    public let template: JudgeTemplate
    public let maxSide: Int
    public let refresh: Bool

    public init(service: any ChatService, model: String, workspaceRoot: URL?, maxSide: Int = 512, refresh: Bool = false) throws {
        self.service = service
        self.model = model
        template = try JudgeTemplate.load("answer_key", builtin: Self.prompt, workspaceRoot: workspaceRoot)
        self.maxSide = maxSide
        self.refresh = refresh
    }

    /// The settings hash of this judge's verdicts: model, template and schema.
    public var settingsHash: String {
        Judge.settingsHash(Judge.answerKey.rawValue, model: model, templateSHA256: template.sha256, schema: Self.schema(options: 4))
    }

    /// What a verdict is tied to: the stem, the options in order and the key. A rewritten question is judged again.
    public static func fingerprint(_ q: Question) -> String {
        JudgementRow.fingerprint(question: q.question, options: q.options, answer: q.answer)
    }

    static let schemaName = "answer_key_judgement"

    public static func schema(options: Int) -> String {
        let letters = QuestionVocabulary.letters.prefix(max(options, 1)).map { "\"\($0)\"" }.joined(separator: ",")
        return """
            {"type":"object","properties":{"answer":{"type":"string","enum":[\(letters)]},"ambiguous":{"type":"boolean"},\
            "reason":{"type":"string"}},"required":["answer","ambiguous","reason"],"additionalProperties":false}
            """
    }

    public static let prompt = """
        You are checking a multiple-choice question for a dataset. Answer it as a careful expert would, from what is \
        given: the photograph attached to this message (when there is one) and the reference descriptions between \
        <description> and </description> (when there are any). The question and its options are between <question> \
        and </question>. Do not guess from how the options are worded.

        Then say whether more than one option is defensible ("ambiguous": true): two options that name the same \
        thing, a correct answer among the distractors too, or a question the photograph and descriptions cannot \
        settle.

        Answer as JSON: {"answer": "<the option's letter>", "ambiguous": true | false, "reason": "<one sentence>"}.
        """

    /// The question block: the stem and one `A. …` line per option.
    public static func questionBlock(_ q: Question) -> String {
        var lines = [q.question]
        for (i, option) in q.options.enumerated() {
            lines.append((QuestionVocabulary.letter(i) ?? "?") + QuestionVocabulary.optionSeparator + option)
        }
        return "<question>\n" + lines.joined(separator: "\n") + "\n</question>"
    }

    /// The verdict in a reply for a question of `options` options, nil when it is not one.
    public static func parse(_ text: String, options: Int) -> (answer: Int, ambiguous: Bool, reason: String)? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
              let letter = object["answer"] as? String, let index = QuestionVocabulary.index(ofLetter: letter), index < options,
              let ambiguous = object["ambiguous"] as? Bool else { return nil }
        return (index, ambiguous, ((object["reason"] as? String) ?? "").trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Answers `q` with its image (`imageAt`, nil when it has none) and, for Type 2, the `descriptions` it was
    /// written from.
    public func judge(_ q: Question, imageAt url: URL?, descriptions: [String]) async throws(JudgeError) -> Verdict {
        let item = "question \(q.id)"
        var text = template.render(["category": q.category ?? ""])
        for description in descriptions { text += "\n\n<description>\n\(description)\n</description>" }
        text += "\n\n" + Self.questionBlock(q)
        var parts: [ChatMessage.Part] = [.text(text)]
        if let url {
            do {
                parts.append(.image(try Thumbnailer(quality: 85).thumbnail(fileAt: url, maxSide: maxSide), mimeType: "image/jpeg"))
            } catch {
                throw JudgeError(.unreadableImage, judge: .answerKey, item: item, detail: "cannot make the thumbnail of \(url.lastPathComponent): \(error)")
            }
        }
        let options = q.options.count
        let request = ChatRequest(
            model: model, messages: [ChatMessage(role: .user, parts: parts)], temperature: 0, maxTokens: Self.maxTokens,
            responseFormat: .jsonSchema(name: Self.schemaName, schema: Self.schema(options: options)), purpose: "mcq.verify",
            validator: { reply in
                Self.parse(reply, options: options) == nil
                    ? "answer with a JSON object: `answer` one of the option letters, `ambiguous` true or false, `reason` one sentence"
                    : nil
            },
            refresh: refresh, replaysOnlyValidAnswers: true)
        let result: ChatResult
        do {
            result = try await service.complete(request)
        } catch {
            throw JudgeError(judge: .answerKey, item: item, chat: error)
        }
        guard let parsed = Self.parse(result.text, options: options) else {
            throw JudgeError(.noVerdict, judge: .answerKey, item: item, detail: "the reply is not a verdict: \(result.text.prefix(120))")
        }
        return Verdict(answer: parsed.answer, ambiguous: parsed.ambiguous, reason: parsed.reason, requestKey: result.requestKey)
    }
}
