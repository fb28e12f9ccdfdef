/// Text and attribute values made safe for HTML, the one escaper of every page dsbuild writes (the static report,
/// the review app): `& < > " '` become entities, and any secret the text holds is masked first (`SecretRedactor`)
/// — a page is the last chance to keep a key an endpoint echoed out of what a person sees or shares.
public enum HTMLText {
    public static func escape(_ text: String) -> String {
        let text = SecretRedactor.redact(text)
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
