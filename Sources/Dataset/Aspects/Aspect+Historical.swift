extension Aspect {
    /// History alone. No prompt is built in: a `historical.txt` template supplies it; shards frame it.
    public static let historical = Aspect(
        name: "historical",
        prompt: nil,
        textTurn: "Tell me about the history of the {keyword}.",
        imageTurn: "This image shows the {keyword}. Tell me about its history.")
}
