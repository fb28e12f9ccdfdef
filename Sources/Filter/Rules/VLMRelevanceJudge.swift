import Dataset
import Foundation

/// Asks a vision model, through any `ChatService` (cached, paced and counted like every LLM call), which of a
/// shuffled list of keywords an image shows. The request is one user message: the prompt (the options one per
/// line after `Options:`, each prefixed with `- `), then the image as a JPEG thumbnail; the reply is the JSON object
/// `{"choice": "<an option verbatim>", "confidence": 0..1, "reason": "<short>"}`, held to a schema whose `choice`
/// is an enum of the options and re-asked (with the error fed back) when it is not.
public struct VLMRelevanceJudge: RelevanceJudging {
    public let service: any ChatService
    public let model: String
    /// The image's longer side is brought down to this before sending.
    public let maxSide: Int

    public init(service: any ChatService, model: String, maxSide: Int = 768) {
        self.service = service
        self.model = model
        self.maxSide = maxSide
    }

    static let promptHead = """
        Which one of the options below does this image show? Judge the subject that is actually visible. If the \
        image is a map, a diagram, a label, a sign or text about the subject, or shows something other than every \
        named option, choose "{none}". Answer as JSON: {"choice": "<one option, copied verbatim>", \
        "confidence": <a number from 0 to 1>, "reason": "<what you see that decides it, at most one sentence>"}.
        """

    /// The prompt for these options (`{none}` filled, the category line only when there is one).
    static func prompt(options: [String], category: String?) -> String {
        var text = promptHead.replacingOccurrences(of: "{none}", with: RelevanceConfusions.noneOption)
        if let category, !category.isEmpty { text += "\nThe image was collected as a picture of a \(category) subject." }
        return text + "\nOptions:\n" + options.map { "- \($0)" }.joined(separator: "\n")
    }

    public var identity: String { "\(model)|\(ContentHash.sha256Hex(Self.promptHead).prefix(16))|\(maxSide)" }

    static func schema(options: [String]) -> String {
        let schema: [String: Any] = [
            "type": "object",
            "properties": [
                "choice": ["type": "string", "enum": options],
                "confidence": ["type": "number", "minimum": 0, "maximum": 1],
                "reason": ["type": "string"],
            ],
            "required": ["choice", "confidence", "reason"],
            "additionalProperties": false,
        ]
        let data = try? JSONSerialization.data(withJSONObject: schema, options: [.sortedKeys])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// The verdict in `text`, or why it is not one (fed back to the model).
    static func parse(_ text: String, options: [String]) -> Result<RelevanceVerdict, JudgeError> {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            return .failure(JudgeError(.noVerdict, judge: RelevanceRule.ruleName, item: "the reply", detail: "answer with one JSON object"))
        }
        // The option as offered, not the reply's spelling of it: Swift's `==` takes another Unicode normalisation
        // of an option for it, and the stored choice must be byte-equal to the keyword text (the confusion table).
        guard let written = object["choice"] as? String, let choice = options.first(where: { $0 == written }) else {
            return .failure(JudgeError(.noVerdict, judge: RelevanceRule.ruleName, item: "the reply", detail: "`choice` must be one of the options, copied verbatim"))
        }
        guard let confidence = (object["confidence"] as? NSNumber)?.doubleValue, (0...1).contains(confidence),
              !JSONValues.isBoolean(object["confidence"]) else {
            return .failure(JudgeError(.noVerdict, judge: RelevanceRule.ruleName, item: "the reply", detail: "`confidence` must be a number from 0 to 1"))
        }
        return .success(RelevanceVerdict(choice: choice, confidence: confidence, reason: (object["reason"] as? String) ?? ""))
    }

    /// Room for the reply, which copies the chosen option verbatim: 160 tokens, more when an option is long (a
    /// keyword may be 200 characters of a script of several UTF-8 bytes and a token or more each), so a long keyword
    /// is not cut at max_tokens on every run. A token is at least one byte, so the option's bytes bound its tokens.
    static func maxTokens(options: [String]) -> Int {
        max(160, 96 + (options.map(\.utf8.count).max() ?? 0))
    }

    public func judge(imageAt url: URL, options: [String], category: String?) async throws -> RelevanceVerdict {
        let thumbnail = try JudgeError.thumbnail(of: url, maxSide: maxSide, judge: RelevanceRule.ruleName)
        let request = ChatRequest(
            model: model,
            messages: [ChatMessage(role: .user, parts: [.text(Self.prompt(options: options, category: category)),
                                                        .image(thumbnail, mimeType: "image/jpeg")])],
            temperature: 0, maxTokens: Self.maxTokens(options: options),
            responseFormat: .jsonSchema(name: "relevance_judgement", schema: Self.schema(options: options)),
            purpose: "relevance_judge",
            validator: { text in
                if case .failure(let error) = Self.parse(text, options: options) { return error.detail }
                return nil
            },
            // A non-answer kept in the cache is asked again on the next run, not replayed as the same failure.
            replaysOnlyValidAnswers: true)
        let result: ChatResult
        do {
            result = try await service.complete(request)
        } catch {
            throw JudgeError(judge: RelevanceRule.ruleName, item: "image \(url.lastPathComponent)", chat: error)
        }
        return try Self.parse(result.text, options: options).get()
    }
}
