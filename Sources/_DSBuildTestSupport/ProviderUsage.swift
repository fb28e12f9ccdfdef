import Foundation
import Imaging

/// Usage counted the way a provider bills it, for fakes that report `usage` like OpenAI: per message 3 tokens and
/// the role, 3 for the reply, the text by a tokenizer the caller chooses, and each image by OpenAI's documented
/// tile rule (written out here on its own, so a mistake in dsbuild's `ImageTokenRule` shows as a difference).
public enum ProviderUsage {
    /// A tokenizer: text → token count.
    public typealias Tokenizer = @Sendable (String) -> Int

    /// A stand-in for a BPE tokenizer unlike dsbuild's approximation: UTF-8 bytes / 3.6 (English prose runs ~4.2
    /// bytes a token, Korean ~3): an estimate has to be calibrated to land near it.
    public static let byteTokenizer: Tokenizer = { text in Int((Double(text.utf8.count) / 3.6).rounded(.up)) }

    /// The prompt tokens of a chat-completions body.
    public static func promptTokens(_ body: [String: Any], tokenizer: Tokenizer, imageBase: Int = 85, imageTile: Int = 170) -> Int {
        var total = 3
        for message in body["messages"] as? [[String: Any]] ?? [] {
            total += 4
            if let text = message["content"] as? String { total += tokenizer(text) }
            for part in message["content"] as? [[String: Any]] ?? [] {
                if let text = part["text"] as? String { total += tokenizer(text) }
                if let image = part["image_url"] as? [String: Any], let url = image["url"] as? String {
                    total += imageTokens(url: url, detail: image["detail"] as? String, base: imageBase, tile: imageTile)
                }
            }
        }
        if let format = body["response_format"] as? [String: Any], let schema = format["json_schema"],
           let data = try? JSONSerialization.data(withJSONObject: schema, options: [.sortedKeys]) {
            total += tokenizer(String(decoding: data, as: UTF8.self))
        }
        return total
    }

    static func imageTokens(url: String, detail: String?, base: Int, tile: Int) -> Int {
        if detail == "low" { return base }
        guard let comma = url.firstIndex(of: ","), let data = Data(base64Encoded: String(url[url.index(after: comma)...])),
              let probe = try? ImageProber.probe(data: data, scope: .geometry) else { return base + tile }
        var width = Double(probe.displayWidth), height = Double(probe.displayHeight)
        if max(width, height) > 2048 { let s = 2048 / max(width, height); width *= s; height *= s }
        if min(width, height) > 768 { let s = 768 / min(width, height); width *= s; height *= s }
        return base + tile * Int(ceil(width / 512)) * Int(ceil(height / 512))
    }
}
