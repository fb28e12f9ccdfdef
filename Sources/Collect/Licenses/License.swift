import Dataset
import Foundation

/// Normalises the many spellings sources use for a licence (`CC BY-SA 4.0`, `cc-by-sa`, `by-sa`, Flickr's `5`,
/// a creativecommons.org URL…) to one short id: `cc0`, `pdm`, `cc-by`, `cc-by-sa`, `cc-by-nc`, `cc-by-nd`,
/// `cc-by-nc-sa`, `cc-by-nc-nd`. Anything else is `nil` (unknown), which a licence filter never lets through.
public enum License {
    /// Every id `normalize` can return, most permissive first.
    public static let known = ["cc0", "pdm", "cc-by", "cc-by-sa", "cc-by-nc", "cc-by-nd", "cc-by-nc-sa", "cc-by-nc-nd"]

    public static func normalize(_ raw: String?) -> String? {
        guard let raw else { return nil }
        var text = raw.lowercased().trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return nil }
        if text.contains("creativecommons.org") {
            if text.contains("/publicdomain/zero") { return "cc0" }
            if text.contains("/publicdomain/mark") { return "pdm" }
            if let range = text.range(of: "/licenses/") {
                let rest = text[range.upperBound...].split(separator: "/").first.map(String.init) ?? ""
                return fromParts(rest)
            }
            return nil
        }
        for prefix in ["cc ", "cc-", "cc_"] where text.hasPrefix(prefix) {
            text = String(text.dropFirst(prefix.count))
        }
        if text == "cc0" || text == "0" || text.hasPrefix("zero") || text.hasPrefix("cc0 ") || text.hasPrefix("cc0-") { return "cc0" }
        if ["public domain", "pd", "pdm", "public domain mark", "public-domain", "publicdomain"].contains(text)
            || text.hasPrefix("public domain") || text.hasPrefix("pd-") { return "pdm" }
        // Strip a version (`4.0`, `2.5 generic`) and joiners so `by-sa 4.0` and `BY_SA` both read `by-sa`.
        let words = text.replacingOccurrences(of: "_", with: "-").split(whereSeparator: { $0 == " " })
        guard let first = words.first else { return nil }
        return fromParts(String(first))
    }

    /// `by`, `by-sa`, `by-nc-nd` → the id; anything else nil.
    private static func fromParts(_ parts: String) -> String? {
        let elements = parts.split(separator: "-").map(String.init)
        guard elements.first == "by" else {
            if parts == "zero" { return "cc0" }
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

/// Which licences a run accepts (`--licenses cc0,cc-by,cc-by-sa`). Empty means "any, including unknown".
public struct LicenseFilter: Sendable, Equatable {
    public let allowed: Set<String>

    public static let any = LicenseFilter(allowed: [])
    public static let openDefault = LicenseFilter(allowed: ["cc0", "pdm", "cc-by", "cc-by-sa"])

    public init(allowed: Set<String>) {
        self.allowed = allowed
    }

    /// The rule for `collect.licenses` and `--licenses`: known licence names, or `any` alone.
    public static let rule = ValueRule("licence names (\(License.known.joined(separator: ", "))) or `any`") { value in
        let names = value.listValue?.compactMap(\.stringValue) ?? value.stringValue.map { [$0] } ?? []
        do {
            _ = try LicenseFilter(parsing: names)
            return nil
        } catch let error as CollectError {
            return error.detail
        } catch {
            return "\(error)"
        }
    }

    /// Parses user spellings (also a comma list in one item); `any` alone accepts everything. An id that is not a
    /// known licence is an error naming it.
    public init(parsing rawList: [String]) throws(CollectError) {
        let list = rawList.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            .filter { !$0.isEmpty }
        // An empty list names no licence; reading it as "every licence" would collect what the user never chose.
        guard !list.isEmpty else {
            throw CollectError(.invalidSetting, item: "(empty)",
                               detail: "names no licence; list the licences to accept (\(License.known.joined(separator: ", "))) or `any`")
        }
        if list.contains(where: { $0.lowercased() == "any" }) {
            guard list.count == 1 else {
                throw CollectError(.invalidSetting, item: list.joined(separator: ","),
                                   detail: "`any` accepts every licence; give it alone, not with other names")
            }
            allowed = []
            return
        }
        var ids = Set<String>()
        for item in list {
            guard let id = License.normalize(item) else {
                throw CollectError(.invalidSetting, item: item,
                                   detail: "unknown licence; use one of \(License.known.joined(separator: ", "))")
            }
            ids.insert(id)
        }
        allowed = ids
    }

    /// The accepted licences as a recipe writes them (`any` when every licence is).
    public var names: [String] { allowed.isEmpty ? ["any"] : allowed.sorted() }

    public func accepts(_ normalized: String?) -> Bool {
        if allowed.isEmpty { return true }
        guard let normalized else { return false }
        return allowed.contains(normalized)
    }
}
