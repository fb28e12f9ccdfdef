extension Aspect {
    /// Ecology: habitat, range, behaviour, life cycle, relations with other species.
    public static let ecological = Aspect(
        name: "ecological",
        prompt: """
            Write one paragraph of 80 to 200 words in {language} about the ecology of {keyword} ({category}): its
            habitat and range, behaviour, life cycle, season, food or host plants, and relations with other
            species. Name the {keyword} as the subject. Write plain prose, no lists.
            Source title: {source_title}
            Source description: {source_description}
            """,
        minChars: 200, maxChars: 2500,
        textTurn: "Describe the habitat and ecology of the {keyword}.",
        imageTurn: "This image shows the {keyword}. Describe its habitat and ecology.",
        document: DocumentSection(
            heading: "Habitat and ecology", exampleSubject: "Red fox", exampleCategory: "animal",
            example: "The red fox lives across most of the Northern Hemisphere, from Arctic tundra to deserts, farmland and city suburbs. It is mostly active at dusk and at night, hunting voles, mice and rabbits, and it also eats insects, berries and food waste. Pairs dig dens in banks or under sheds, where four to six cubs are born in spring and leave in autumn. Its enemies are wolves, eagles and traffic, and it competes with coyotes and badgers where they meet."))
}
