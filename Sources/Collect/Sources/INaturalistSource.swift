import Dataset
import Foundation

/// iNaturalist API v1: resolve the keyword to a taxon (`/v1/taxa?q=`), then page research-grade observations
/// with photos by `id_above`. Photo URLs point at the `square` size; `photoSize` picks the one to download.
public struct INaturalistSource: ImageSource {
    public let name = INaturalistSource.sourceName
    public let baseURL: String
    /// `small` (240), `medium` (500), `large` (1024) or `original` (2048).
    public let photoSize: String
    public let qualityGrade: String

    public static let defaultBaseURL = "https://api.inaturalist.org"
    /// The terms ask for at most 60 requests a minute.
    public static let defaultRequestsPerMinute = 60.0

    public init(baseURL: String = INaturalistSource.defaultBaseURL, photoSize: String = "large", qualityGrade: String = "research") {
        self.baseURL = baseURL
        self.photoSize = photoSize
        self.qualityGrade = qualityGrade
    }

    /// iNaturalist's licence codes for the licences the filter accepts (`cc-by-sa`…); empty asks for any.
    func photoLicenseParameter(_ filter: LicenseFilter) -> String? {
        let codes = filter.allowed.filter { $0 != "pdm" }.sorted()
        return codes.isEmpty ? nil : codes.joined(separator: ",")
    }

    public func candidates(for query: String, keyword: String, limit: Int, context: SourceContext) async throws -> [Candidate] {
        guard let taxaURL = URL.api(baseURL, "/v1/taxa", [("q", query), ("per_page", "1")]) else {
            throw CollectError(.invalidSetting, item: "collect.sources.inaturalist.base_url", detail: "not a URL: \(baseURL)")
        }
        let taxa = try await context.object(taxaURL, source: name).object
        guard let taxon = (taxa["results"] as? [[String: Any]])?.first, let taxonID = JSONField.int(taxon["id"]) else {
            context.logger.info("no iNaturalist taxon", metadata: ["keyword": "\(keyword)"])
            return []
        }
        var found: [Candidate] = []
        var idAbove = 0
        while found.count < limit {
            var items: [(String, String)] = [
                ("taxon_id", String(taxonID)), ("photos", "true"), ("quality_grade", qualityGrade),
                ("per_page", "200"), ("order_by", "id"), ("order", "asc"), ("id_above", String(idAbove)),
            ]
            if let licenses = photoLicenseParameter(context.licenses) { items.insert(("photo_license", licenses), at: 2) }
            guard let url = URL.api(baseURL, "/v1/observations", items) else { break }
            let page = try await context.object(url, source: name).object
            let results = page["results"] as? [[String: Any]] ?? []
            if results.isEmpty { break }
            for observation in results {
                if let id = JSONField.int(observation["id"]) { idAbove = max(idAbove, id) }
                for photo in observation["photos"] as? [[String: Any]] ?? [] {
                    guard found.count < limit, let candidate = candidate(photo: photo, observation: observation, rank: found.count),
                          context.licenses.accepts(candidate.license) else { continue }
                    found.append(candidate)
                }
            }
        }
        return found
    }

    func candidate(photo: [String: Any], observation: [String: Any], rank: Int) -> Candidate? {
        guard let id = JSONField.string(photo["id"]), let square = JSONField.string(photo["url"]) else { return nil }
        let url = square.replacingOccurrences(of: "square", with: photoSize)
        let dimensions = photo["original_dimensions"] as? [String: Any]
        let rawLicense = JSONField.string(photo["license_code"])
        var extra: [String: String] = [:]
        if let observationID = JSONField.string(observation["id"]) { extra["observation_id"] = observationID }
        if let login = JSONField.string((observation["user"] as? [String: Any])?["login"]) { extra["user_login"] = login }
        if let taxon = JSONField.string((observation["taxon"] as? [String: Any])?["name"]) { extra["taxon_name"] = taxon }
        extra["photo_size"] = photoSize
        return Candidate(
            source: name, sourceID: id, imageURL: url, pageURL: JSONField.string(observation["uri"]),
            license: License.normalize(rawLicense) ?? rawLicense, author: JSONField.string(photo["attribution"]),
            title: JSONField.string((observation["taxon"] as? [String: Any])?["name"]),
            description: JSONField.string(observation["description"]),
            declaredWidth: photoSize == "original" ? JSONField.int(dimensions?["width"]) : nil,
            declaredHeight: photoSize == "original" ? JSONField.int(dimensions?["height"]) : nil,
            extra: extra, rank: rank)
    }
}

extension INaturalistSource: RegisteredSource {
    public static let sourceName = "inaturalist"
    public static let api: SourceAPI? = SourceAPI(baseURL: defaultBaseURL, requestsPerMinute: defaultRequestsPerMinute)

    /// The photo sizes iNaturalist serves (`collect.sources.inaturalist.photo_size`).
    public enum PhotoSize: String, Sendable, CaseIterable {
        case small, medium, large, original
    }

    /// `collect.sources.inaturalist.…`
    public struct Options: SourceOptions {
        public var photoSize: PhotoSize = .large
        public var qualityGrade = "research"

        public init() {}

        public static let keys: [SettingKey<Options>] = [
            .choice("photo_size", \.photoSize, help: "the photo size downloaded: small (240), medium (500), large (1024) or original (2048)"),
            .string("quality_grade", \.qualityGrade, help: "observations searched: research, needs_id, casual (comma-separated for several)"),
        ]
    }

    public static func make(_ options: Options, setup: SourceSetup) -> INaturalistSource {
        INaturalistSource(baseURL: setup.baseURL, photoSize: options.photoSize.rawValue, qualityGrade: options.qualityGrade)
    }
}
