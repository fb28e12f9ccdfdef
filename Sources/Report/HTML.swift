import Dataset

/// Escaping for text and attribute values in the generated HTML.
enum HTML {
    /// The letter of option `index` (`QuestionVocabulary`'s letters), "?" outside them.
    static func letter(_ index: Int) -> String {
        QuestionVocabulary.letter(index) ?? "?"
    }

    /// `HTMLText.escape` (secrets masked, then the five characters).
    static func escape(_ text: String) -> String { HTMLText.escape(text) }
}
