extension Aspect {
    /// History alone. No prompt is built in: a `historical.txt` template supplies it; shards frame it.
    public static let historical = Aspect(
        name: "historical",
        prompt: nil,
        textTurn: "Tell me about the history of the {keyword}.",
        imageTurn: "This image shows the {keyword}. Tell me about its history.",
        document: DocumentSection(
            heading: "History", exampleSubject: "Printing press", exampleCategory: "invention",
            example: "The printing press with movable metal type was developed in Mainz around 1450 by Johannes Gutenberg, who adapted the screw presses used for wine and paper. His workshop printed its famous Bible in about 1455. Within fifty years presses were running in more than two hundred European towns, and books became cheap enough for merchants and students. The press spread the ideas of the Reformation and of the new sciences, and it fixed the spelling of many languages."))
}
