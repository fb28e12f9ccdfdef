import Foundation

/// One JSON line from the embedding bridge (`trainer/embed.py`).
enum EmbedEvent: Equatable {
    /// The model is loaded: its family (`clip`, `siglip`) and vector size.
    case model(family: String, dim: Int, device: String)
    /// A batch of vectors: `vectors` holds one little-endian float16 row per id, in order.
    case batch(kind: String, ids: [String], vectors: Data)
    /// An image that could not be opened; the rest go on.
    case skip(id: String, path: String, reason: String)
    case end(texts: Int, images: Int, skipped: Int)
    /// A fatal error (the model folder, a missing package…).
    case error(String)
    /// A line that is not a protocol object.
    case other(String)

    static func parse(_ line: String) -> EmbedEvent? {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return nil }
        guard let o = (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) as? [String: Any],
              let event = o["event"] as? String else { return .other(String(trimmed.prefix(300))) }
        func int(_ key: String) -> Int { (o[key] as? NSNumber)?.intValue ?? 0 }
        func text(_ key: String) -> String { o[key] as? String ?? "" }
        switch event {
        case "model": return .model(family: text("family"), dim: int("dim"), device: text("device"))
        case "batch":
            guard o["dtype"] as? String == "<f2", let ids = o["ids"] as? [String],
                  let vectors = Data(base64Encoded: text("vectors")) else { return .other("a batch without float16 vectors") }
            return .batch(kind: text("kind"), ids: ids, vectors: vectors)
        case "skip": return .skip(id: text("id"), path: text("path"), reason: text("reason"))
        case "end": return .end(texts: int("texts"), images: int("images"), skipped: int("skipped"))
        case "error": return .error(o["message"] as? String ?? "(no message)")
        default: return .other(String(trimmed.prefix(300)))
        }
    }
}
