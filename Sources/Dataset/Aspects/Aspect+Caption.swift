extension Aspect {
    /// A dense caption of the attached image; shards frame it with the generic turns.
    public static let caption = Aspect(
        name: "caption",
        prompt: """
            Write a dense caption in {language} of the attached image of a {keyword} ({category}): one or two
            sentences, 170 to 280 characters, naming the {keyword} and describing what is visible (colours,
            parts, setting, composition). No preamble.
            Source title: {source_title}
            """,
        minChars: 120, maxChars: 400)
}
