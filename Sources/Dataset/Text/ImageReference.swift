import Foundation

/// Whether a text refers to an image the reader is supposed to see ("this image", "the picture", "shown",
/// "pictured", "photo", an `<image>` token…) — the one matcher for "a text-only record may not ask about an image
/// it does not carry". `dsbuild shards` uses it to keep such questions out of text-only records and `dsbuild
/// check` (`text_only_no_image_refs`) to prove they are out; both read this, so they cannot disagree.
///
/// Whole words, case-insensitive, English:
/// - the placeholder tokens trainers use for pixels (`<image>`, `<|image_pad|>` …);
/// - a determiner before an image noun: `this|that|these|those|the|above|following|given|attached|provided` +
///   `image|picture|photo|photograph|illustration|figure|drawing|painting|scene|screenshot` (plural too);
/// - a depicting verb: `shown`, `pictured`, `depicted`, `photographed`, `illustrated`, `visible`, `seen here|above|below`;
/// - any `photo`/`photograph`/`photos` at all.
///
/// It errs towards refusing: "the image of a god in the temple" is kept out of text shards too, which costs one
/// text-only record and never leaks a question that cannot be answered without its image.
public enum ImageReference {
    /// Placeholder tokens that stand for pixels (or other media) in trainer formats: LLaVA's and LLaMA-Factory's
    /// `<image>`/`<video>`/`<audio>`, Qwen-VL's vision tokens, and others. The one list: `neutralised(_:)` keeps
    /// every one of them out of what `shards` and its exports write, and `check` looks for them.
    public static let tokens = ["<image>", "<img>", "<video>", "<audio>", "<|image_pad|>", "<|video_pad|>", "<|vision_start|>",
                                "<|vision_end|>", "<|vision_pad|>", "<|image|>", "<|audio_bos|>", "<|AUDIO|>", "<|IMAGE|>",
                                "<|VIDEO|>", "<image_placeholder>"]

    private static let patterns: [String] = [
        #"\b(?:this|that|these|those|the|above|following|given|attached|provided)\s+(?:images?|pictures?|photos?|photographs?|illustrations?|figures?|drawings?|paintings?|scenes?|screenshots?)\b"#,
        #"\b(?:shown|pictured|depicted|photographed|illustrated|visible)\b"#,
        #"\bseen\s+(?:here|above|below)\b"#,
        #"\bphoto(?:graph)?s?\b"#,
    ]

    private static let regexes: [NSRegularExpression] = patterns.map {
        // The patterns are constants: a failure here is a programming error caught by the tests.
        try! NSRegularExpression(pattern: $0, options: [.caseInsensitive])
    }

    /// The first token or phrase of `text` that refers to an image, or nil when there is none.
    public static func firstMatch(in text: String) -> String? {
        for token in tokens where text.contains(token) { return token }
        let range = NSRange(text.startIndex..., in: text)
        for regex in regexes {
            if let match = regex.firstMatch(in: text, range: range), let found = Range(match.range, in: text) { return String(text[found]) }
        }
        return nil
    }

    /// Whether `text` refers to an image.
    public static func refersToImage(_ text: String) -> Bool { firstMatch(in: text) != nil }
}
