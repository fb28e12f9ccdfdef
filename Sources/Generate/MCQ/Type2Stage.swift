import Dataset
import Foundation
import GRDB
import Synchronization

/// Type 2 (complex reasoning) questions, per keyword and variant, written by the model from the keyword's accepted
/// descriptions with a JSON schema. The model returns the answer apart from the distractors; dsbuild places it.
///
/// Each question's split is decided before it is written (`Type2Plan`) and it is linked to an image of its
/// keyword in that split, so it can be asked with the image; a train question is written only from descriptions
/// that may train, so nothing derived from a held-out image enters training through it.
public struct Type2Stage: Stage {
    public struct Item: Sendable {
        public var keywordID: Int64
        public var keyword: String
        public var category: String
        public var variant: Int
        /// `train` or `test`, decided before generation.
        public var split: String
        /// The image of the keyword the question is asked with (a test image for a test question).
        public var imageSHA256: String
        public var descriptions: [String]
        public var id: String { Self.id(keywordID: keywordID, variant: variant) }
        public static func id(keywordID: Int64, variant: Int) -> String { "t2-\(keywordID)-\(variant)" }
    }

    public enum Outcome: Sendable {
        case accepted(Question, requestKey: String)
        case rejected(Question, reason: String, detail: String)
        case failed(ChatError)
    }

    public static let schema = #"{"type":"object","properties":{"question":{"type":"string","minLength":10,"maxLength":300},"answer":{"type":"string","minLength":1,"maxLength":120},"distractors":{"type":"array","items":{"type":"string","minLength":1,"maxLength":120},"minItems":3,"maxItems":3},"aspect":{"type":"string"},"rationale":{"type":"string"}},"required":["question","answer","distractors","aspect","rationale"],"additionalProperties":false}"#

    /// The schema under `llm.local`: every string bounded, so a small model under llama.cpp's grammar (which
    /// honours `maxLength` and `pattern`) closes the object instead of writing its rationale until cut at
    /// `max_tokens`; the question and the options are held to the shape `ReplyHygiene` and `MCQValidator` accept —
    /// a question that starts with a capital letter and ends with its only `?`, options that start with a letter or
    /// digit and hold no `?` (an option is no question), none with `<`, `>`, `|`, braces, brackets, quotes or line
    /// breaks (no chat-template token, no fragment).
    public static let localSchema = #"{"type":"object","properties":{"question":{"type":"string","pattern":"^[A-Z][^?\"\\\\<>|{}\\[\\]\\n]{8,150}[?]$"},"answer":{"type":"string","pattern":"^[A-Za-z0-9][^?\"\\\\<>|{}\\[\\]\\n]{1,38}$"},"distractors":{"type":"array","items":{"type":"string","pattern":"^[A-Za-z0-9][^?\"\\\\<>|{}\\[\\]\\n]{1,38}$"},"minItems":3,"maxItems":3},"aspect":{"type":"string","maxLength":20},"rationale":{"type":"string","maxLength":80}},"required":["question","answer","distractors","aspect","rationale"],"additionalProperties":false}"#

    /// The schema sent: `localSchema` under `llm.local` (a remote endpoint's requests, and their cache keys, are unchanged).
    var schema: String { settings.llm.usesLocalModel ? Self.localSchema : Self.schema }

    /// 500 completion tokens; under `llm.local` at most the local limit (a CPU writes a few tokens a second).
    var maxTokens: Int { Self.maxTokens(settings.llm) }

    /// The completion limit of a Type 2 request under `llm` (the local limit under `llm.local`).
    public static func maxTokens(_ llm: LLMSettings) -> Int {
        llm.usesLocalModel ? min(maxTokens, max(llm.maxTokens ?? maxTokens, 320)) : maxTokens
    }

    public static let template = """
        Write one multiple-choice question in {language} that tests knowledge of the {category} "{keyword}" described \
        below: its appearance, use, history, habitat or behaviour — something a person who knows it can answer from \
        the picture and knowledge, without the question naming the answer. Give the correct answer and exactly three \
        plausible but wrong distractors, each short. Do not use "all of the above" or "none of the above". \
        The question must not contain the answer. Name the aspect it tests and give a one-sentence rationale.

        What is known about {keyword}:
        {descriptions}
        """

    public let name = "mcq.type2"
    /// The completion limit of a Type 2 request.
    public static let maxTokens = 500
    public let settings: MCQSettings
    public let client: any ChatService

    public init(settings: MCQSettings, client: any ChatService) {
        self.settings = settings
        self.client = client
    }

    public static var templateSHA256: String { templateSHA256(template) }

    /// The prompt template under `llm`: the instruction `template`, or `DocumentPrompt.typeTwo` for a base model.
    public static func template(for llm: LLMSettings) -> String { llm.promptsAsDocument ? DocumentPrompt.typeTwo : template }

    /// The version of a template stored with each question (a changed template makes its questions pending).
    public static func templateSHA256(_ template: String) -> String { AspectTemplate(aspect: "mcq-type2", text: template).sha256 }

    /// The template this stage asks with.
    var activeTemplate: String { Self.template(for: settings.llm) }

    /// The questions to write: those with no accepted or rejected row for the current model and template.
    public func pending(in manifest: Manifest) async throws -> [Item] {
        let settings = self.settings
        return try await manifest.asyncRead { db in try Type2Plan.make(settings: settings, in: db).pending }
    }

    public func work(on item: Item) async throws -> Outcome {
        let prompt = settings.llm.promptsAsDocument ? Self.documentPrompt(for: item) : Self.prompt(for: item, language: settings.language)
        let validator = MCQValidator(instructions: activeTemplate)
        // The client re-asks a rejected question with the reason fed back; the last rejection is recorded when every
        // answer was rejected, under its own reason (`control_tokens`, `fragment_question`…).
        let lastRejection = Mutex<(reason: String, detail: String, question: String, options: [String])?>(nil)
        // A base model's question that copies the worked example is about another subject (`ExampleCopy`).
        let copy = settings.llm.promptsAsDocument ? DocumentPrompt.typeTwoExample.copy : nil
        let keyword = item.keyword
        let request = ChatRequest(
            model: settings.model, messages: [.user(prompt)], temperature: settings.temperature, maxTokens: maxTokens,
            seed: settings.seed + item.variant, responseFormat: .jsonSchema(name: "mcq", schema: schema),
            purpose: "mcq.type2",
            validator: { text in
                guard let parsed = Self.parse(text) else { return "the reply does not have question, answer and distractors" }
                let options = [parsed.answer] + parsed.distractors
                let copied = copy.flatMap { copy in
                    (([parsed.question] + options).lazy.compactMap { copy.problem(in: $0, keyword: keyword) }.first ?? copy.problem(options: options))
                        .map { (ExampleCopy.reason, $0) }
                }
                guard let problem = validator.check(question: parsed.question, options: options, answer: parsed.answer, type: 2) ?? copied else { return nil }
                lastRejection.withLock { $0 = (problem.0, problem.1, parsed.question, options) }
                return "\(problem.1) (\(problem.0))"
            },
            refresh: settings.refresh, reasksOnRejection: !settings.llm.promptsAsDocument)
        let result: ChatResult
        do {
            result = try await client.complete(request)
        } catch {
            if error.endsItemWork { throw error }
            if error.code == .invalidOutput, let last = lastRejection.withLock({ $0 }) {
                return .rejected(question(item, text: last.question, options: last.options), reason: last.reason, detail: last.detail)
            }
            if error.code == .invalidOutput {
                return .rejected(question(item, text: "", options: []), reason: "invalid_output", detail: error.message)
            }
            return .failed(error)
        }
        guard let parsed = Self.parse(result.text) else { return .failed(ChatError(.invalidOutput, "unparseable: \(result.text.prefix(100))")) }
        var q = question(item, text: parsed.question, options: [parsed.answer] + parsed.distractors)
        q.aspect = parsed.aspect
        q.rationale = parsed.rationale
        // A first, seeded placement; the letters are balanced over the whole set created in this run by finalize.
        q = AnswerBalancer.place(q, seed: settings.seed)
        return .accepted(q, requestKey: result.requestKey)
    }

    /// The question row for an item: its split and image decided before generation, the requested model (so a
    /// changed model makes the question pending again) and the template hash.
    func question(_ item: Item, text: String, options: [String], extra: String = "{}") -> Question {
        Question(id: item.id, type: 2, question: text, options: options, answer: 0, category: item.category, split: item.split,
                 origin: "generated", keyword: item.keyword, keywordID: item.keywordID, imageSHA256: item.imageSHA256,
                 model: settings.model, templateSHA256: Self.templateSHA256(activeTemplate), extra: extra)
    }

    static func prompt(for item: Item, language: String) -> String {
        Self.template
            .replacingOccurrences(of: "{language}", with: LanguageNames.name(language))
            .replacingOccurrences(of: "{category}", with: item.category)
            .replacingOccurrences(of: "{keyword}", with: item.keyword)
            .replacingOccurrences(of: "{descriptions}", with: item.descriptions.joined(separator: "\n\n"))
    }

    /// The document a base model continues: the worked example, then the subject and what is known of it on one
    /// line, cut at a sentence end within `DocumentPrompt.typeTwoKnownLimit` characters.
    static func documentPrompt(for item: Item) -> String {
        let known = item.descriptions.joined(separator: " ").split(whereSeparator: \.isNewline).joined(separator: " ")
        var cut = String(known.prefix(DocumentPrompt.typeTwoKnownLimit))
        if cut.count < known.count, let end = cut.lastIndex(where: { ".!?".contains($0) }) { cut = String(cut[...end]) }
        return PromptPlaceholders.fill(DocumentPrompt.typeTwo, names: ["keyword", "category", "descriptions"],
                                       values: ["keyword": item.keyword, "category": item.category,
                                                "descriptions": cut])
    }

    struct Parsed {
        var question: String
        var answer: String
        var distractors: [String]
        var aspect: String?
        var rationale: String?
    }

    static func parse(_ text: String) -> Parsed? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
              let question = object["question"] as? String, let answer = object["answer"] as? String,
              let distractors = object["distractors"] as? [String] else { return nil }
        return Parsed(question: question.trimmingCharacters(in: .whitespacesAndNewlines),
                      answer: answer.trimmingCharacters(in: .whitespacesAndNewlines),
                      distractors: distractors.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) },
                      aspect: object["aspect"] as? String, rationale: object["rationale"] as? String)
    }

    public func record(_ outcome: Outcome, for item: Item, in db: Database, run: StageRun) throws {
        switch outcome {
        case .accepted(let q, let key):
            try QuestionStore.save(q, requestKey: key, placed: false, in: db)
        case .rejected(var q, let reason, let detail):
            q.extra = JSONText.encodeObject(["detail": detail])
            try QuestionStore.save(q, status: "rejected", reason: reason, in: db)
        case .failed(let error):
            let q = question(item, text: "", options: [], extra: JSONText.encodeObject(["detail": error.message]))
            try QuestionStore.save(q, status: "failed", reason: error.code.rawValue, in: db)
        }
    }

    public func classify(_ outcome: Outcome) -> StageOutcomeClass {
        switch outcome {
        case .accepted: return .ok
        case .rejected(_, let reason, _): return StageOutcomeClass(key: "rejected_\(reason)")
        case .failed(let error): return StageOutcomeClass(key: "failed_\(error.code.rawValue)", failed: true, message: error.description)
        }
    }
}
