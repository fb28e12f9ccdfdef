extension Aspect {
    /// History and cultural meaning: origin, use, regional variants, meaning to its people.
    public static let cultural = Aspect(
        name: "cultural",
        prompt: """
            Write one paragraph of 80 to 200 words in {language} about the history and cultural meaning of {keyword}
            ({category}): where it comes from, when and by whom it is used or made, regional variants, and what it
            means to the people who use it. Name the {keyword} as the subject. Write plain prose, no lists.
            Source title: {source_title}
            Source description: {source_description}
            """,
        minChars: 200, maxChars: 2500,
        textTurn: "Tell me about the history and cultural meaning of the {keyword}.",
        imageTurn: "This image shows the {keyword}. Tell me about its history and cultural meaning.",
        document: DocumentSection(
            heading: "Culture and meaning", exampleSubject: "Tartan", exampleCategory: "textile",
            example: "Tartan is a woven pattern of crossing coloured stripes that has been made in the Scottish Highlands for centuries. Each clan came to be linked with its own sett, and wearing it showed which family a person belonged to. After 1746 the British government banned Highland dress for a generation, which made tartan a sign of loyalty and defiance. Today it is worn at weddings, graduations and Burns Night, and new setts are still registered for towns, companies and regiments."))
}
