import Dataset

/// Escaping for text and attribute values in the generated HTML.
enum HTML {
    /// The letter of option `index` (`QuestionVocabulary`'s letters), "?" outside them.
    static func letter(_ index: Int) -> String {
        QuestionVocabulary.letter(index) ?? "?"
    }

    static func escape(_ text: String) -> String {
        // Every text of the report passes here: the last chance to keep a key out of it.
        let text = SecretRedactor.redact(text)
        var out = ""
        out.reserveCapacity(text.count)
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }
}
