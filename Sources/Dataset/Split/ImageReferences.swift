import Foundation

/// Whether a question's stem refers to an image ("this image", "the picture", "shown", "pictured", "photo" …),
/// so that a record without the image may not carry it (text-only shards). One small matcher, whole words,
/// case-insensitive, English:
///
/// - a determiner before an image noun: `this|that|these|those|the|above|following|given|attached` +
///   `image|picture|photo|photograph|illustration|figure|drawing|painting|scene` (plural too);
/// - the noun `photo`/`photograph`/`picture`/`image` after `in`/`on`/`from` + `the`/`this`;
/// - a depicting verb: `shown`, `pictured`, `depicted`, `photographed`, `illustrated`, `visible`, `seen here`;
/// - any `photo`/`photograph`/`photos` at all.
///
/// It errs towards refusing: "the image of a god in the temple" is refused from text shards too, which costs
/// one text-only record and never leaks a question that cannot be answered without its image.
public enum ImageReferences {
    private static let patterns: [String] = [
        #"\b(this|that|these|those|the|above|following|given|attached|provided)\s+(images?|pictures?|photos?|photographs?|illustrations?|figures?|drawings?|paintings?|scenes?)\b"#,
        #"\b(shown|pictured|depicted|photographed|illustrated|visible)\b"#,
        #"\bseen\s+here\b"#,
        #"\bphoto(graph)?s?\b"#,
    ]

    private static let regexes: [NSRegularExpression] = patterns.map {
        // The patterns are constants: a failure here is a programming error caught by the tests.
        try! NSRegularExpression(pattern: $0, options: [.caseInsensitive])
    }

    /// True when `text` refers to an image the reader is supposed to see.
    public static func mentionsImage(_ text: String) -> Bool {
        let range = NSRange(text.startIndex..., in: text)
        return regexes.contains { $0.firstMatch(in: text, options: [], range: range) != nil }
    }
}
