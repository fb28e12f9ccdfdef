import Foundation

/// Normalises the many spellings sources use for a licence (`CC BY-SA 4.0`, `cc-by-sa`, `by-sa`, Flickr's `5`,
/// a creativecommons.org URL…) to one short id: `cc0`, `pdm`, `cc-by`, `cc-by-sa`, `cc-by-nc`, `cc-by-nd`,
/// `cc-by-nc-sa`, `cc-by-nc-nd`. Anything else is `nil` (unknown), which a licence filter never lets through.
public enum License {
    /// Every id `normalize` can return, most permissive first.
    public static let known = ["cc0", "pdm", "cc-by", "cc-by-sa", "cc-by-nc", "cc-by-nd", "cc-by-nc-sa", "cc-by-nc-nd"]

    public static func normalize(_ raw: String?) -> String? {
        parse(raw)?.id
    }

    /// The licence version a spelling or deed URL names (`4.0` in `CC BY-NC 4.0` or `…/licenses/by-nc/4.0/`), else
    /// nil: a version is never assumed.
    public static func version(_ raw: String?) -> String? {
        parse(raw)?.version
    }

    /// A spelling read whole: the id and the version it names (nil when it names none).
    static func parse(_ raw: String?) -> (id: String, version: String?)? {
        guard let raw else { return nil }
        var text = raw.lowercased().trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return nil }
        // A licence is one line of printable text; anything else is not a spelling dsbuild can read.
        if text.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) { return nil }
        if text.contains("creativecommons.org") {
            let tail = text.split(separator: "?").first.map(String.init) ?? text
            let segments = tail.split(separator: "/").map(String.init)
            let version = segments.first(where: isVersion)
            if tail.contains("/publicdomain/zero") { return ("cc0", version ?? "1.0") }
            if tail.contains("/publicdomain/mark") { return ("pdm", version ?? "1.0") }
            guard let index = segments.firstIndex(of: "licenses"), index + 1 < segments.count else { return nil }
            // Only the deed's own path: `licenses/<parts>/<version>/…`.
            let after = segments[(index + 2)...]
            if let next = after.first, !isVersion(next), !["legalcode", "deed"].contains(where: next.hasPrefix) { return nil }
            return fromParts(segments[index + 1].split(separator: "-").map(String.init)).map { ($0, after.first.flatMap { isVersion($0) ? $0 : nil }) }
        }
        // Phrases first (`non-commercial`, `share alike`, `attribution`), then every token: a restriction anywhere in
        // the spelling, in any separator style, is read (`CC BY NC ND 4.0`, `cc_by_nc`, `CC BY (non-commercial use only)`).
        for (phrase, token) in phrases { text = text.replacingOccurrences(of: phrase, with: " \(token) ") }
        let tokens = text.split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == ".") })
            .map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: ".")) }.filter { !$0.isEmpty }
        guard !tokens.isEmpty else { return nil }
        var words = tokens
        if words.first == "cc" || words.first == "creative" { words.removeFirst() }
        if words.first == "commons" { words.removeFirst() }
        guard let first = words.first else { return nil }
        let version = words.first(where: isVersion)
        if ["cc0", "zero", "0"].contains(first) {
            return words.dropFirst().allSatisfy { isVersion($0) || filler.contains($0) } ? ("cc0", version ?? (first == "0" ? nil : "1.0")) : nil
        }
        if first == "pd" || first == "pdm" || first == "publicdomain" {
            return ("pdm", nil)
        }
        guard first == "by" else { return nil }
        var parts = ["by"]
        var seenVersion = false
        for word in words.dropFirst() {
            if ["nc", "nd", "sa"].contains(word) { parts.append(word); continue }
            if isVersion(word) { seenVersion = true; continue }
            if filler.contains(word) { continue }
            // A ported licence names its jurisdiction after the version (`CC BY-SA 3.0 DE`).
            if seenVersion, word.count == 2, word.allSatisfy(\.isLetter) { continue }
            return nil  // a word dsbuild cannot read: the licence is unknown, never guessed
        }
        return fromParts(parts).map { ($0, version) }
    }

    private static let phrases: [(String, String)] = [
        ("non-commercial", "nc"), ("non commercial", "nc"), ("noncommercial", "nc"),
        ("no-derivatives", "nd"), ("no derivatives", "nd"), ("noderivatives", "nd"), ("no-derivs", "nd"), ("no derivs", "nd"), ("noderivs", "nd"),
        ("share-alike", "sa"), ("share alike", "sa"), ("sharealike", "sa"), ("attribution", "by"),
        ("public domain mark", "pdm"), ("public domain", "pdm"), ("public-domain", "pdm"),
    ]
    private static let filler: Set<String> = ["license", "licence", "generic", "unported", "international", "use", "only", "version", "v",
                                              "deed", "legalcode"]

    /// `4.0`, `2.5`, `1.0`: digits, a dot, digits.
    static func isVersion(_ s: String) -> Bool {
        let halves = s.split(separator: ".", omittingEmptySubsequences: false)
        return halves.count == 2 && halves.allSatisfy { !$0.isEmpty && $0.count <= 2 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }
    }

    /// `by`, `by nc`, `by nd nc` → the id; anything else nil.
    private static func fromParts(_ elements: [String]) -> String? {
        guard elements.first == "by" else {
            if elements == ["zero"] { return "cc0" }
            return nil
        }
        let rest = Set(elements.dropFirst())
        guard rest.isSubset(of: ["nc", "nd", "sa"]), !(rest.contains("nd") && rest.contains("sa")) else { return nil }
        var id = "cc-by"
        if rest.contains("nc") { id += "-nc" }
        if rest.contains("nd") { id += "-nd" }
        if rest.contains("sa") { id += "-sa" }
        return id
    }
}

