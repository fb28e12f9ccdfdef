import Dataset
import Foundation
import Imaging

/// Asks a vision model, through any `ChatService` (cached like every LLM call), whether an image shows a
/// visible watermark, logo or stock-agency text. The answer is a JSON object checked against a schema. A request
/// that fails (network, quota, timeout, a refusal, a reply never in the asked shape) throws `JudgeError`: the
/// image stays undecided.
public struct VLMWatermarkJudge: WatermarkJudging {
    public let service: any ChatService
    public let model: String
    /// The image's longer side is brought down to this before sending (a thumbnail is enough to see a mark).
    public let maxSide: Int

    public init(service: any ChatService, model: String, maxSide: Int = 512) {
        self.service = service
        self.model = model
        self.maxSide = maxSide
    }

    static let schema = """
        {"type":"object","properties":{"watermark":{"type":"boolean"},"evidence":{"type":"string"}},\
        "required":["watermark","evidence"],"additionalProperties":false}
        """

    static let prompt = """
        Does this image show a visible watermark, a logo overlay, or stock-photo text (for example "Getty Images", \
        "Shutterstock", "Alamy", "iStock", a copyright line or a semi-transparent mark across the picture)? \
        Ignore text that is part of the scene itself (signs, labels, book covers). Answer as JSON: \
        {"watermark": true|false, "evidence": "<what you see, at most one sentence>"}.
        """

    public func judge(imageAt url: URL, format: String) async throws -> (watermarked: Bool, explanation: String) {
        let thumbnail = try JudgeError.thumbnail(of: url, maxSide: maxSide, judge: WatermarkRule.ruleName)
        let request = ChatRequest(
            model: model,
            messages: [ChatMessage(role: .user, parts: [.text(Self.prompt), .image(thumbnail, mimeType: "image/jpeg")])],
            temperature: 0, maxTokens: 120, responseFormat: .jsonSchema(name: "watermark_judgement", schema: Self.schema),
            purpose: "watermark_judge",
            validator: { text in
                guard let data = text.data(using: .utf8),
                      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                      object["watermark"] is Bool else { return "answer with a JSON object whose `watermark` is true or false" }
                return nil
            },
            // A non-answer kept in the cache is asked again on the next run, not replayed as the same failure.
            replaysOnlyValidAnswers: true)
        let result: ChatResult
        do {
            result = try await service.complete(request)
        } catch {
            throw JudgeError(judge: WatermarkRule.ruleName, item: "image \(url.lastPathComponent)", chat: error)
        }
        let object = result.jsonObject ?? [:]
        return ((object["watermark"] as? Bool) ?? false, (object["evidence"] as? String) ?? "")
    }
}
