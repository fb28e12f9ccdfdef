extension Aspect {
    /// What the keyword looks like: colours, shapes, materials, distinctive parts.
    public static let visual = Aspect(
        name: "visual",
        prompt: """
            Describe what a {keyword} ({category}) looks like, in {language}, in one paragraph of 80 to 200 words.
            Cover colours, shapes, patterns, materials, texture, size and distinctive parts: everything that lets a
            person tell a {keyword} apart from similar {category} items. If an image is attached, describe what is
            visible in it. Name the {keyword} as the subject. Write plain prose, no lists, no headings.
            Source title: {source_title}
            Source description: {source_description}
            """,
        minChars: 200, maxChars: 2500,
        textTurn: "Describe what the {keyword} looks like.",
        imageTurn: "Describe the {keyword} in this image.")
}
