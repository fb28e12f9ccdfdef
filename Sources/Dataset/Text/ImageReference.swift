import Foundation

/// Whether a text refers to an image ("this image", "the picture", "pictured", an `<image>` token…) — the one
/// matcher for "a text-only record may not ask about an image it does not carry". `dsbuild shards` uses it to keep
/// such questions out of text-only records and `dsbuild check` (`text_only_no_image_refs`) to prove they are out.
///
/// It is deliberately small and phrase-based: a determiner followed by an image noun (`this photo`, `the
/// images`), `pictured`, `shown/seen here|above|below`, and the placeholder tokens trainers use. Words such as
/// "depicted" or "painting" are left alone: a text-only question may ask how a motif is depicted in folk art.
public enum ImageReference {
    /// Placeholder tokens that stand for pixels in trainer formats.
    public static let tokens = ["<image>", "<img>", "<|image_pad|>", "<|vision_start|>"]

    private static let phrase: NSRegularExpression = {
        let nouns = "image|images|picture|pictures|photo|photos|photograph|photographs|illustration|screenshot"
        let pattern = #"\b(?:this|the|that|these|those)\s+(?:"# + nouns + #")\b|\bpictured\b|\b(?:shown|seen|visible)\s+(?:here|above|below)\b"#
        return try! NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
    }()

    /// The first phrase of `text` that refers to an image, or nil when there is none.
    public static func firstMatch(in text: String) -> String? {
        for token in tokens where text.contains(token) { return token }
        let range = NSRange(text.startIndex..., in: text)
        guard let match = phrase.firstMatch(in: text, range: range), let found = Range(match.range, in: text) else { return nil }
        return String(text[found])
    }

    /// Whether `text` refers to an image.
    public static func refersToImage(_ text: String) -> Bool { firstMatch(in: text) != nil }
}
