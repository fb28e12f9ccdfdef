import Dataset
import Foundation

/// GBIF occurrence search with `mediaType=StillImage`: each occurrence's `media[]` entries are candidates.
/// GBIF gives no pixel sizes; a medium's licence may be stricter than its record's, so the medium's counts.
public struct GBIFSource: ImageSource {
    public let name = GBIFSource.sourceName
    public let baseURL: String
    public let pageSize: Int

    public static let defaultBaseURL = "https://api.gbif.org"

    public init(baseURL: String = GBIFSource.defaultBaseURL, pageSize: Int = 300) {
        self.baseURL = baseURL
        self.pageSize = min(max(pageSize, 1), 300)
    }

    public func candidates(for query: String, keyword: String, limit: Int, context: SourceContext) async throws -> [Candidate] {
        var found: [Candidate] = []
        var offset = 0
        while found.count < limit {
            let items: [(String, String)] = [("q", query), ("mediaType", "StillImage"), ("limit", String(pageSize)),
                                              ("offset", String(offset))]
            guard let url = URL.api(baseURL, "/v1/occurrence/search", items) else {
                throw CollectError(.invalidSetting, item: "collect.sources.gbif.base_url", detail: "not a URL: \(baseURL)")
            }
            let object = try await context.object(url, source: name).object
            let results = object["results"] as? [[String: Any]] ?? []
            for occurrence in results {
                for (index, medium) in (occurrence["media"] as? [[String: Any]] ?? []).enumerated() {
                    guard found.count < limit,
                          let candidate = candidate(medium: medium, index: index, occurrence: occurrence, rank: found.count),
                          context.licenses.accepts(candidate.license) else { continue }
                    found.append(candidate)
                }
            }
            offset += results.count
            if results.isEmpty || (object["endOfRecords"] as? Bool) == true { break }
        }
        return found
    }

    func candidate(medium: [String: Any], index: Int, occurrence: [String: Any], rank: Int) -> Candidate? {
        guard JSONField.string(medium["type"]) ?? "StillImage" == "StillImage",
              let url = JSONField.string(medium["identifier"]),
              let key = JSONField.string(occurrence["key"]) else { return nil }
        let rawLicense = JSONField.string(medium["license"]) ?? JSONField.string(occurrence["license"])
        var extra: [String: String] = ["occurrence_key": key]
        if let name = JSONField.string(occurrence["scientificName"]) { extra["scientific_name"] = name }
        if let holder = JSONField.string(medium["rightsHolder"]) { extra["rights_holder"] = holder }
        if let publisher = JSONField.string(medium["publisher"]) { extra["publisher"] = publisher }
        return Candidate(
            source: name, sourceID: "\(key)/\(index)", imageURL: url,
            pageURL: JSONField.string(medium["references"]) ?? "https://www.gbif.org/occurrence/\(key)",
            license: License.normalize(rawLicense) ?? rawLicense,
            licenseURL: rawLicense.flatMap { $0.hasPrefix("http") ? $0 : nil },
            author: JSONField.string(medium["creator"]) ?? JSONField.string(medium["rightsHolder"]),
            title: JSONField.string(medium["title"]), description: JSONField.string(medium["description"]),
            declaredMime: JSONField.string(medium["format"]), extra: extra, rank: rank)
    }
}

extension GBIFSource: RegisteredSource {
    public static let sourceName = "gbif"
    public static let api: SourceAPI? = SourceAPI(baseURL: defaultBaseURL)

    public static func make(_ options: NoSourceOptions, setup: SourceSetup) -> GBIFSource {
        GBIFSource(baseURL: setup.baseURL)
    }
}
