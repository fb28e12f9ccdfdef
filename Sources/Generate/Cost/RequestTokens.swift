import Foundation
import Imaging

/// What one chat-completions request body will cost in tokens before it is sent: its text (messages, the JSON schema
/// of `response_format`, the per-message framing) by `TokenApproximation`, its images by `ImageTokenRule`, and the
/// completion limit it asks for. Computed from the exact bytes the client sends, so the estimate, the budget and
/// the cache's calibration all measure the same thing.
public struct RequestTokens: Sendable, Equatable {
    /// Approximate text tokens of the prompt (uncalibrated).
    public var text: Double
    /// Image tokens by the provider's rule.
    public var image: Int
    public var images: Int
    /// `max_tokens` / `max_completion_tokens` of the body, when set.
    public var maxCompletion: Int?
    public var model: String

    /// Tokens the endpoint frames each message with, and the reply with (OpenAI's chat format).
    static let perMessage = 3.0, perReply = 3.0

    public init(text: Double, image: Int, images: Int, maxCompletion: Int?, model: String) {
        self.text = text
        self.image = image
        self.images = images
        self.maxCompletion = maxCompletion
        self.model = model
    }

    /// The prompt's approximate tokens, text and images.
    public var prompt: Double { text + Double(image) }

    public static func of(body: Data) -> RequestTokens {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            return RequestTokens(text: Double(body.count) / 4, image: 0, images: 0, maxCompletion: nil, model: "")
        }
        let model = object["model"] as? String ?? ""
        let rule = ImageTokenRule.of(model: model)
        var text = perReply
        var image = 0, images = 0
        for message in object["messages"] as? [[String: Any]] ?? [] {
            text += perMessage + 1
            if let content = message["content"] as? String {
                text += TokenApproximation.tokens(in: content)
            } else if let parts = message["content"] as? [[String: Any]] {
                for part in parts {
                    if let value = part["text"] as? String { text += TokenApproximation.tokens(in: value) }
                    if let imageURL = part["image_url"] as? [String: Any], let url = imageURL["url"] as? String {
                        images += 1
                        let size = dimensions(ofDataURL: url)
                        image += rule.tokens(width: size.width, height: size.height, detail: imageURL["detail"] as? String)
                    }
                }
            }
        }
        if let format = object["response_format"] as? [String: Any], let schema = format["json_schema"],
           let data = try? JSONSerialization.data(withJSONObject: schema, options: [.sortedKeys]) {
            text += TokenApproximation.tokens(in: String(decoding: data, as: UTF8.self))
        }
        let limit = object["max_completion_tokens"] as? Int ?? object["max_tokens"] as? Int
        return RequestTokens(text: text, image: image, images: images, maxCompletion: limit, model: model)
    }

    /// The pixel size of a `data:` URL's image (a remote URL, or bytes no prober reads, count as 512×512: one tile).
    static func dimensions(ofDataURL url: String) -> (width: Int, height: Int) {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ","),
              let data = Data(base64Encoded: String(url[url.index(after: comma)...])),
              let probe = try? ImageProber.probe(data: data, scope: .geometry) else { return (512, 512) }
        return (probe.displayWidth, probe.displayHeight)
    }
}
