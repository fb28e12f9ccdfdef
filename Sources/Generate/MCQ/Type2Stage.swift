import Dataset
import Foundation
import GRDB

/// Type 2 (complex reasoning) questions, per keyword and variant, written by the model from the keyword's accepted
/// descriptions with a JSON schema. The model returns the answer apart from the distractors; dsbuild places it.
public struct Type2Stage: Stage {
    public struct Item: Sendable {
        public var keywordID: Int64
        public var keyword: String
        public var category: String
        public var variant: Int
        public var descriptions: [String]
        public var id: String { "t2-\(keywordID)-\(variant)" }
    }

    public enum Outcome: Sendable {
        case accepted(MCQuestion, requestKey: String)
        case rejected(MCQuestion, reason: String, detail: String)
        case failed(ChatError)
    }

    public static let schema = #"{"type":"object","properties":{"question":{"type":"string","minLength":10,"maxLength":300},"answer":{"type":"string","minLength":1,"maxLength":120},"distractors":{"type":"array","items":{"type":"string","minLength":1,"maxLength":120},"minItems":3,"maxItems":3},"aspect":{"type":"string"},"rationale":{"type":"string"}},"required":["question","answer","distractors","aspect","rationale"],"additionalProperties":false}"#

    public static let template = """
        Write one multiple-choice question in {language} that tests knowledge of the {category} "{keyword}" described \
        below: its appearance, use, history, habitat or behaviour — something a person who knows it can answer from \
        the picture and knowledge, without the question naming the answer. Give the correct answer and exactly three \
        plausible but wrong distractors, each short. Do not use "all of the above" or "none of the above". \
        The question must not contain the answer. Name the aspect it tests and give a one-sentence rationale.

        What is known about {keyword}:
        {descriptions}
        """

    public let name = "mcq"
    public let settings: MCQSettings
    public let client: any ChatService

    public init(settings: MCQSettings, client: any ChatService) {
        self.settings = settings
        self.client = client
    }

    public static var templateSHA256: String { AspectTemplate(aspect: "mcq-type2", text: template).sha256 }

    public func pending(in manifest: Manifest) async throws -> [Item] {
        let settings = self.settings
        return try await manifest.asyncRead { db in
            let done = try Set(String.fetchAll(db, sql: "SELECT id FROM questions WHERE type = 2 AND status IN ('accepted', 'rejected')"))
            var items: [Item] = []
            for keyword in try KeywordStore.all(in: db) {
                let texts = try String.fetchAll(db, sql: """
                    SELECT text FROM descriptions WHERE keyword_id = ? AND status = 'accepted' AND text IS NOT NULL ORDER BY aspect, mode, image_sha256, language, variant, template_sha256, model LIMIT 4
                    """, arguments: [keyword.id])
                guard !texts.isEmpty else { continue }
                for variant in 0..<max(settings.perKeyword, 1) {
                    let item = Item(keywordID: keyword.id, keyword: keyword.entry.text, category: keyword.entry.category ?? "item",
                                    variant: variant, descriptions: texts)
                    if !done.contains(item.id) { items.append(item) }
                }
            }
            return items
        }
    }

    public func work(on item: Item) async throws -> Outcome {
        let prompt = Self.template
            .replacingOccurrences(of: "{language}", with: LanguageNames.name(settings.language))
            .replacingOccurrences(of: "{category}", with: item.category)
            .replacingOccurrences(of: "{keyword}", with: item.keyword)
            .replacingOccurrences(of: "{descriptions}", with: item.descriptions.joined(separator: "\n\n"))
        let validator = MCQValidator()
        let request = ChatRequest(
            model: settings.model, messages: [.user(prompt)], temperature: settings.temperature, maxTokens: 500,
            seed: settings.seed + item.variant, responseFormat: .jsonSchema(name: "mcq", schema: Self.schema),
            purpose: "mcq.type2",
            validator: { text in
                guard let parsed = Self.parse(text) else { return "the reply does not have question, answer and distractors" }
                return validator.check(question: parsed.question, options: [parsed.answer] + parsed.distractors,
                                       answer: parsed.answer, type: 2).map { "\($0.1) (\($0.0))" }
            },
            refresh: settings.refresh)
        let result: ChatResult
        do {
            result = try await client.complete(request)
        } catch {
            if error.isFatal || error.code == .cancelled { throw error }
            if error.code == .invalidOutput {
                let q = MCQuestion(id: item.id, keywordID: item.keywordID, keyword: item.keyword, type: 2, question: "",
                                   options: [], answer: 0, category: item.category, model: settings.model,
                                   templateSHA256: Self.templateSHA256)
                return .rejected(q, reason: "invalid_output", detail: error.message)
            }
            return .failed(error)
        }
        guard let parsed = Self.parse(result.text) else { return .failed(ChatError(.invalidOutput, "unparseable: \(result.text.prefix(100))")) }
        var q = MCQuestion(id: item.id, keywordID: item.keywordID, keyword: item.keyword, type: 2, question: parsed.question,
                           options: [parsed.answer] + parsed.distractors, answer: 0, aspect: parsed.aspect,
                           rationale: parsed.rationale, category: item.category, model: result.model,
                           templateSHA256: Self.templateSHA256)
        q = AnswerBalancer.place(q, seed: settings.seed)
        return .accepted(q, requestKey: result.requestKey)
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

    public func record(_ outcome: Outcome, for item: Item, in db: Database) throws {
        switch outcome {
        case .accepted(let q, let key):
            try QuestionStore.save(q, requestKey: key, in: db)
        case .rejected(var q, let reason, let detail):
            q.extra = JSONText.encodeObject(["detail": detail])
            try QuestionStore.save(q, status: "rejected", reason: reason, in: db)
        case .failed(let error):
            let q = MCQuestion(id: item.id, keywordID: item.keywordID, keyword: item.keyword, type: 2, question: "",
                               options: [], answer: 0, category: item.category, model: settings.model,
                               extra: JSONText.encodeObject(["detail": error.message]))
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
