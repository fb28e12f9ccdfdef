/// Fills `{name}` placeholders in a prompt template in one pass over the template: a value is inserted as it is,
/// never searched for placeholders itself, so a keyword or a source title that contains `{category}` stays as
/// written instead of being filled in turn.
public enum PromptPlaceholders {
    /// `template` with each `{name}` of `names` replaced by `values[name]` (missing values: empty); any other brace is
    /// left as it is.
    public static func fill(_ template: String, names: [String], values: [String: String]) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            out += rest[..<open]
            let tail = rest[open...]
            if let name = names.first(where: { tail.hasPrefix("{\($0)}") }) {
                out += values[name] ?? ""
                rest = tail.dropFirst(name.count + 2)
            } else {
                out += "{"
                rest = tail.dropFirst()
            }
        }
        return out + rest
    }
}
