/// The built-in aspect templates (`prompts/describe/<aspect>.txt` in a workspace, or the recipe's
/// `describe.templates_dir`, overrides one by name; a new name adds an aspect).
public enum BuiltinAspects {
    public static let templates: [String: String] = [
        "visual": """
            Describe what a {keyword} ({category}) looks like, in {language}, in one paragraph of 80 to 200 words.
            Cover colours, shapes, patterns, materials, texture, size and distinctive parts: everything that lets a
            person tell a {keyword} apart from similar {category} items. If an image is attached, describe what is
            visible in it. Name the {keyword} as the subject. Write plain prose, no lists, no headings.
            Source title: {source_title}
            Source description: {source_description}
            """,
        "cultural": """
            Write one paragraph of 80 to 200 words in {language} about the history and cultural meaning of {keyword}
            ({category}): where it comes from, when and by whom it is used or made, regional variants, and what it
            means to the people who use it. Name the {keyword} as the subject. Write plain prose, no lists.
            Source title: {source_title}
            Source description: {source_description}
            """,
        "ecological": """
            Write one paragraph of 80 to 200 words in {language} about the ecology of {keyword} ({category}): its
            habitat and range, behaviour, life cycle, season, food or host plants, and relations with other
            species. Name the {keyword} as the subject. Write plain prose, no lists.
            Source title: {source_title}
            Source description: {source_description}
            """,
        "caption": """
            Write a dense caption in {language} of the attached image of a {keyword} ({category}): one or two
            sentences, 170 to 280 characters, naming the {keyword} and describing what is visible (colours,
            parts, setting, composition). No preamble.
            Source title: {source_title}
            """,
    ]

    /// Length bounds in characters per aspect (recipe `describe.min_chars` / `max_chars` override).
    public static let minChars = ["visual": 200, "cultural": 200, "ecological": 200, "caption": 120]
    public static let maxChars = ["visual": 2500, "cultural": 2500, "ecological": 2500, "caption": 400]
}
