import Dataset
import Foundation

/// Openverse `/v1/images/`: anonymous requests may ask for at most 20 results a page and 20 pages.
public struct OpenverseSource: ImageSource {
    public let name = OpenverseSource.sourceName
    public let baseURL: String

    public static let defaultBaseURL = "https://api.openverse.org"
    public static let maxPageSize = 20
    public static let maxPage = 20

    public init(baseURL: String = OpenverseSource.defaultBaseURL) {
        self.baseURL = baseURL
    }

    /// Openverse spells licences without the `cc-` prefix (`by-sa`, `cc0`, `pdm`).
    func licenseParameter(_ filter: LicenseFilter) -> String? {
        let codes = filter.allowed.map { $0.hasPrefix("cc-") ? String($0.dropFirst(3)) : $0 }.sorted()
        return codes.isEmpty ? nil : codes.joined(separator: ",")
    }

    public func candidates(for query: String, keyword: String, limit: Int, context: SourceContext) async throws -> [Candidate] {
        var found: [Candidate] = []
        var page = 1
        while found.count < limit && page <= Self.maxPage {
            var items: [(String, String)] = [("q", query), ("page_size", String(Self.maxPageSize)), ("page", String(page))]
            if let licenses = licenseParameter(context.licenses) { items.insert(("license", licenses), at: 1) }
            guard let url = URL.api(baseURL, "/v1/images/", items) else {
                throw CollectError(.invalidSetting, item: "collect.sources.openverse.base_url", detail: "not a URL: \(baseURL)")
            }
            let object = try await context.object(url, source: name).object
            let results = object["results"] as? [[String: Any]] ?? []
            for result in results {
                guard found.count < limit, let candidate = candidate(from: result, rank: found.count),
                      context.licenses.accepts(candidate.license) else { continue }
                found.append(candidate)
            }
            let pageCount = JSONField.int(object["page_count"]) ?? page
            if results.isEmpty || page >= pageCount { break }
            page += 1
        }
        return found
    }

    func candidate(from result: [String: Any], rank: Int) -> Candidate? {
        guard let id = JSONField.string(result["id"]), let url = JSONField.string(result["url"]) else { return nil }
        let rawLicense = JSONField.string(result["license"])
        var extra: [String: String] = [:]
        for key in ["provider", "source", "creator_url", "thumbnail", "license_version"] {
            if let value = JSONField.string(result[key]) { extra[key] = value }
        }
        if let tags = result["tags"] as? [[String: Any]] {
            extra["tags"] = tags.compactMap { JSONField.string($0["name"]) }.joined(separator: ",")
        }
        return Candidate(
            source: name, sourceID: id, imageURL: url, pageURL: JSONField.string(result["foreign_landing_url"]),
            license: License.normalize(rawLicense) ?? rawLicense, licenseURL: JSONField.string(result["license_url"]),
            author: JSONField.string(result["creator"]), title: JSONField.string(result["title"]),
            declaredWidth: JSONField.int(result["width"]), declaredHeight: JSONField.int(result["height"]),
            declaredBytes: JSONField.int(result["filesize"]),
            declaredMime: JSONField.string(result["filetype"]).map { "image/\($0)" }, extra: extra, rank: rank)
    }
}

extension OpenverseSource: RegisteredSource {
    public static let sourceName = "openverse"
    public static let api: SourceAPI? = SourceAPI(baseURL: defaultBaseURL)

    public static func make(_ options: NoSourceOptions, setup: SourceSetup) -> OpenverseSource {
        OpenverseSource(baseURL: setup.baseURL)
    }
}
