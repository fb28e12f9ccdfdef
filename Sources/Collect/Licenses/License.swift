import Dataset
import Foundation

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
