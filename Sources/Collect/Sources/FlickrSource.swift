import Dataset
import Foundation

/// Flickr `flickr.photos.search` (REST, JSON). The API key comes from the environment only and is never stored:
/// candidates keep the photo URL, which does not contain it.
public struct FlickrSource: ImageSource {
    public let name = FlickrSource.sourceName
    public let baseURL: String
    let apiKey: String

    public static let defaultBaseURL = "https://api.flickr.com"
    public static let defaultKeyVariable = "FLICKR_API_KEY"
    /// The API terms allow 3600 queries an hour.
    public static let defaultRequestsPerMinute = 60.0

    /// Flickr's licence ids and what they mean.
    public static let licenseIDs: [String: String] = [
        "1": "cc-by-nc-sa", "2": "cc-by-nc", "3": "cc-by-nc-nd", "4": "cc-by", "5": "cc-by-sa", "6": "cc-by-nd",
        "9": "cc0", "10": "pdm",
    ]

    /// Reads the key from `keyVariable` in `environment`; a missing key is a `missingCredential` error.
    public init(baseURL: String = FlickrSource.defaultBaseURL, keyVariable: String = FlickrSource.defaultKeyVariable,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws(CollectError) {
        SecretRedactor.register(variables: [keyVariable], in: environment)
        // A key pasted from a Windows .env ends in \r: send the key, not its line ending.
        guard let key = environment[keyVariable]?.trimmingCharacters(in: .whitespacesAndNewlines), !key.isEmpty else {
            throw CollectError(.missingCredential, item: "flickr",
                               detail: "set \(keyVariable) to a Flickr API key (https://www.flickr.com/services/api/misc.api_keys.html)")
        }
        self.baseURL = baseURL
        self.apiKey = key
    }

    func licenseParameter(_ filter: LicenseFilter) -> String {
        let ids = Self.licenseIDs.filter { filter.accepts($0.value) }.keys.sorted { Int($0)! < Int($1)! }
        return ids.joined(separator: ",")
    }

    public func candidates(for query: String, keyword: String, limit: Int, context: SourceContext) async throws -> [Candidate] {
        var found: [Candidate] = []
        var page = 1
        while found.count < limit {
            let items: [(String, String)] = [
                ("method", "flickr.photos.search"), ("api_key", apiKey), ("text", query),
                ("license", licenseParameter(context.licenses)), ("media", "photos"), ("content_type", "1"),
                ("extras", "description,license,owner_name,o_dims,url_l,url_m,url_o"), ("per_page", "500"),
                ("page", String(page)), ("format", "json"), ("nojsoncallback", "1"),
            ]
            guard let url = URL.api(baseURL, "/services/rest/", items) else {
                throw CollectError(.invalidSetting, item: "collect.sources.flickr.base_url", detail: "not a URL: \(baseURL)")
            }
            let object: [String: Any]
            do {
                object = try await context.object(url, source: name).object
            } catch let error as CollectError {
                // The request URL carries the key: never let it reach a message (CollectError redacts every
                // encoded form of it; the raw replacement stays as a second line of defence).
                throw CollectError(error.code, item: error.item, detail: error.detail.replacingOccurrences(of: apiKey, with: SecretRedactor.mask))
            }
            if JSONField.string(object["stat"]) == "fail" {
                throw CollectError(.sourceFailed, item: name,
                                   detail: "Flickr error \(JSONField.string(object["code"]) ?? "?"): \(JSONField.string(object["message"]) ?? "")")
            }
            let photos = object["photos"] as? [String: Any] ?? [:]
            let list = photos["photo"] as? [[String: Any]] ?? []
            for photo in list {
                guard found.count < limit, let candidate = candidate(from: photo, rank: found.count),
                      context.licenses.accepts(candidate.license) else { continue }
                found.append(candidate)
            }
            let pages = JSONField.int(photos["pages"]) ?? page
            if list.isEmpty || page >= pages { break }
            page += 1
        }
        return found
    }

    func candidate(from photo: [String: Any], rank: Int) -> Candidate? {
        guard let id = JSONField.string(photo["id"]) else { return nil }
        // Prefer large, then medium; the original may be huge or a different format.
        let sizes = [("l", "url_l"), ("m", "url_m"), ("o", "url_o")]
        guard let (suffix, key) = sizes.first(where: { JSONField.string(photo[$0.1]) != nil }),
              let url = JSONField.string(photo[key]) else { return nil }
        let licenseID = JSONField.string(photo["license"]) ?? "0"
        let owner = JSONField.string(photo["owner"])
        var extra: [String: String] = ["flickr_license_id": licenseID]
        if let owner { extra["owner"] = owner }
        let description = (photo["description"] as? [String: Any]).flatMap { JSONField.string($0["_content"]) }
        return Candidate(
            source: name, sourceID: id, imageURL: url,
            pageURL: owner.map { "https://www.flickr.com/photos/\($0)/\(id)" },
            license: Self.licenseIDs[licenseID] ?? "flickr-\(licenseID)", author: JSONField.string(photo["ownername"]),
            title: JSONField.string(photo["title"]), description: description.map(HTMLText.plainText),
            declaredWidth: JSONField.int(photo["width_\(suffix)"]), declaredHeight: JSONField.int(photo["height_\(suffix)"]),
            extra: extra, rank: rank)
    }
}

extension FlickrSource: RegisteredSource {
    public static let sourceName = "flickr"
    public static let api: SourceAPI? = SourceAPI(baseURL: defaultBaseURL, requestsPerMinute: defaultRequestsPerMinute)

    /// `collect.sources.flickr.…`
    public struct Options: SourceOptions {
        /// The environment variable holding the key (the key itself never goes in a recipe).
        public var apiKeyVariable = FlickrSource.defaultKeyVariable

        public init() {}

        public static let keys: [SettingKey<Options>] = [
            .string("api_key_env", \.apiKeyVariable, help: "the environment variable holding the Flickr API key"),
        ]
    }

    public static func make(_ options: Options, setup: SourceSetup) throws(CollectError) -> FlickrSource {
        try FlickrSource(baseURL: setup.baseURL, keyVariable: options.apiKeyVariable, environment: setup.environment)
    }
}
