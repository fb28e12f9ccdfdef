import Dataset
import Foundation

/// Wikimedia Commons through the MediaWiki Action API: a `generator=search` over the File namespace with
/// `prop=imageinfo`, paging by echoing the `continue` object, `maxlag=5` honoured.
public struct CommonsSource: ImageSource {
    public let name = CommonsSource.sourceName
    public let baseURL: String
    /// The thumbnail width asked for; nil downloads the original. Rounded up to a width Commons serves.
    public let thumbnailWidth: Int?
    /// How many times a `maxlag` answer is waited out before the search fails.
    public let maxLagRetries: Int

    public static let defaultBaseURL = "https://commons.wikimedia.org"
    /// The only widths Commons renders thumbnails at; another width is refused with 429.
    public static let standardWidths = [20, 40, 60, 120, 250, 330, 500, 960, 1280, 1920, 3840]

    public init(baseURL: String = CommonsSource.defaultBaseURL, thumbnailWidth: Int? = 1280, maxLagRetries: Int = 5) {
        self.baseURL = baseURL
        self.thumbnailWidth = thumbnailWidth.map { Self.standardWidth(atLeast: $0) }
        self.maxLagRetries = maxLagRetries
    }

    /// The smallest standard width at least `width` (the largest when `width` exceeds them all).
    public static func standardWidth(atLeast width: Int) -> Int {
        standardWidths.first { $0 >= width } ?? standardWidths.last!
    }

    func requestURL(query: String, continuation: [String: String]) -> URL? {
        var items: [(String, String)] = [
            ("action", "query"), ("format", "json"), ("formatversion", "2"), ("generator", "search"),
            ("gsrsearch", "\(query) filetype:bitmap"), ("gsrnamespace", "6"), ("gsrlimit", "50"),
            ("prop", "imageinfo"), ("iiprop", "url|size|mime|sha1|extmetadata"),
            ("iiextmetadatafilter", "Artist|LicenseShortName|LicenseUrl|ImageDescription|Credit|AttributionRequired"),
            ("maxlag", "5"),
        ]
        if let thumbnailWidth { items.append(("iiurlwidth", String(thumbnailWidth))) }
        for (key, value) in continuation.sorted(by: { $0.key < $1.key }) { items.append((key, value)) }
        return URL.api(baseURL, "/w/api.php", items)
    }

    public func candidates(for query: String, keyword: String, limit: Int, context: SourceContext) async throws -> [Candidate] {
        var found: [Candidate] = []
        var continuation: [String: String] = [:]
        var lagWaits = 0
        while found.count < limit {
            guard let url = requestURL(query: query, continuation: continuation) else {
                throw CollectError(.invalidSetting, item: "collect.sources.commons.base_url", detail: "not a URL: \(baseURL)")
            }
            let (object, headers) = try await context.object(url, source: name)
            if let error = object["error"] as? [String: Any] {
                let code = JSONField.string(error["code"]) ?? "unknown"
                if code == "maxlag" && lagWaits < maxLagRetries {
                    lagWaits += 1
                    let wait = max(Double(headers["retry-after"] ?? "") ?? 5, 5)
                    context.logger.info("commons maxlag, waiting", metadata: ["source.wait_seconds": "\(wait)"])
                    try await context.sleep(wait)
                    continue
                }
                throw CollectError(.sourceFailed, item: name,
                                   detail: "API error \(code): \(JSONField.string(error["info"]) ?? "") (\(url.absoluteString))")
            }
            let pages = ((object["query"] as? [String: Any])?["pages"] as? [[String: Any]]) ?? []
            for page in pages.sorted(by: { (JSONField.int($0["index"]) ?? 0) < (JSONField.int($1["index"]) ?? 0) }) {
                guard found.count < limit, let candidate = candidate(from: page, rank: found.count),
                      context.licenses.accepts(candidate.license) else { continue }
                found.append(candidate)
            }
            guard let next = object["continue"] as? [String: Any], !next.isEmpty else { break }
            continuation = next.compactMapValues(JSONField.string)
        }
        return found
    }

    func candidate(from page: [String: Any], rank: Int) -> Candidate? {
        guard let title = JSONField.string(page["title"]),
              let info = (page["imageinfo"] as? [[String: Any]])?.first,
              let original = JSONField.string(info["url"]) else { return nil }
        let metadata = info["extmetadata"] as? [String: Any] ?? [:]
        func meta(_ key: String) -> String? {
            guard let value = JSONField.string((metadata[key] as? [String: Any])?["value"]) else { return nil }
            let text = HTMLText.plainText(value)
            return text.isEmpty ? nil : text
        }
        let rawLicense = meta("LicenseShortName")
        let thumb = JSONField.string(info["thumburl"])
        var extra: [String: String] = ["original_url": original]
        if let rawLicense { extra["license_raw"] = rawLicense }
        if let credit = meta("Credit") { extra["credit"] = credit }
        if let required = meta("AttributionRequired") { extra["attribution_required"] = required }
        return Candidate(
            source: name, sourceID: title, imageURL: thumb ?? original,
            pageURL: JSONField.string(info["descriptionurl"]),
            license: License.normalize(rawLicense) ?? rawLicense, licenseURL: meta("LicenseUrl"),
            author: meta("Artist"), title: title, description: meta("ImageDescription"),
            declaredWidth: JSONField.int(thumb == nil ? info["width"] : info["thumbwidth"]),
            declaredHeight: JSONField.int(thumb == nil ? info["height"] : info["thumbheight"]),
            declaredBytes: thumb == nil ? JSONField.int(info["size"]) : nil,
            declaredMime: JSONField.string(info["mime"]),
            declaredSHA1: thumb == nil ? JSONField.string(info["sha1"]) : nil,
            extra: extra, rank: rank)
    }
}

extension CommonsSource: RegisteredSource {
    public static let sourceName = "commons"
    public static let api: SourceAPI? = SourceAPI(baseURL: defaultBaseURL)

    /// `collect.sources.commons.…`
    public struct Options: SourceOptions {
        /// nil downloads the original.
        public var thumbnailWidth: Int? = 1280

        public init() {}

        public static let keys: [SettingKey<Options>] = [
            .int("thumbnail_width", \.thumbnailWidth, rule: .atLeast(0), zeroMeansOff: true,
                 help: "thumbnail width asked for, rounded up to one Commons serves (0: the original file)"),
        ]
    }

    public static func make(_ options: Options, setup: SourceSetup) -> CommonsSource {
        CommonsSource(baseURL: setup.baseURL, thumbnailWidth: options.thumbnailWidth)
    }
}
