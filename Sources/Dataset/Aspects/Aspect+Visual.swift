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
        imageTurn: "Describe the {keyword} in this image.",
        document: DocumentSection(
            heading: "Appearance", exampleSubject: "Red fox", exampleCategory: "animal",
            example: "The red fox is a small, slender wild dog about the size of a medium dog. Its back and sides are covered in thick reddish-orange fur, while its throat, chest and belly are white or cream. The legs and the backs of the ears are black, as if it wore dark stockings. Its long, bushy tail is as red as its back and ends in a white tip, and its narrow face has a pointed muzzle and amber eyes."))
}
