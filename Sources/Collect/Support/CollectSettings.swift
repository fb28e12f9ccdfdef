import Dataset
import Foundation

/// Everything `dsbuild collect` needs, resolved from defaults ← recipe (`collect:`) ← command-line options.
public struct CollectSettings: Sendable {
    /// Options of one source (`collect.sources.<name>.*`).
    public struct SourceOptions: Sendable {
        public var baseURL: String?
        public var apiKeyEnv: String?
        public var perKeyword: Int?
        public var requestsPerMinute: Double?
        public var thumbnailWidth: Int?
        public var photoSize: String?
        public var qualityGrade: String?
        public var file: String?
        public var path: String?
        public var urlColumn: String?
        public var captionColumn: String?
        public var keywordColumn: String?
        public var keyword: String?
        public var format: String?

        public init() {}
    }

    public var sources: [String] = ["commons"]
    public var perKeyword = 50
    public var licenses = LicenseFilter.openDefault
    public var download = DownloadSettings()
    public var sourceOptions: [String: SourceOptions] = [:]
    /// Source API requests in flight (Commons asks for serial requests; keep this small).
    public var searchConcurrency = 2
    /// Search only: record candidates, download nothing.
    public var searchOnly = false

    public init() {}

    /// Defaults overridden by the recipe's `collect:` section. Relative file paths resolve against the recipe's
    /// folder (`Recipe.fileURL`); the User-Agent contact is `collect.user_agent_contact`, else the top-level `contact`.
    public init(recipe: Recipe) throws(CollectError) {
        if let per = recipe.int("collect.per_keyword") { perKeyword = per }
        if let list = recipe.strings("collect.licenses") { licenses = try LicenseFilter(parsing: list) }
        var d = DownloadSettings()
        if let v = recipe.int("collect.concurrency") { d.concurrency = v }
        if let v = recipe.int("collect.per_host") { d.perHost = v }
        if let v = recipe.double("collect.timeout_seconds") { d.totalTimeout = v }
        if let v = recipe.double("collect.connect_timeout_seconds") { d.connectTimeout = v }
        if let v = recipe.int("collect.low_speed_bytes") { d.lowSpeedBytes = v }
        if let v = recipe.double("collect.low_speed_seconds") { d.lowSpeedSeconds = v }
        if let v = recipe.int("collect.max_bytes") { d.maxBytes = v }
        if let v = recipe.int("collect.max_redirects") { d.maxRedirects = v }
        if let v = recipe.int("collect.max_attempts") { d.maxAttempts = v }
        if let v = recipe.double("collect.retry_base_seconds") { d.retryBaseSeconds = v }
        if let v = recipe.double("collect.retry_max_seconds") { d.retryMaxSeconds = v }
        if let v = recipe.bool("collect.robots") { d.robots = v }
        if let v = recipe.bool("collect.respect_x_robots_tag") { d.respectXRobotsTag = v }
        if let v = recipe.string("collect.user_agent_contact") ?? recipe.string("contact") { d.userAgentContact = v }
        if let v = recipe.double("collect.max_wait_seconds") { d.maxWaitSeconds = v }
        if let v = recipe.strings("collect.allow_hosts") {
            do {
                _ = try AddressPolicy.publicOnly(allowing: v)
            } catch {
                throw CollectError(.invalidSetting, item: "collect.allow_hosts", detail: error.description)
            }
            d.allowHosts = v
        }
        download = d
        var enabled: [String] = []
        for name in recipe.keys("collect.sources") {
            let prefix = "collect.sources.\(name)."
            var o = SourceOptions()
            o.baseURL = recipe.string(prefix + "base_url")
            o.apiKeyEnv = recipe.string(prefix + "api_key_env")
            o.perKeyword = recipe.int(prefix + "per_keyword")
            o.requestsPerMinute = recipe.double(prefix + "requests_per_minute")
            o.thumbnailWidth = recipe.int(prefix + "thumbnail_width")
            o.photoSize = recipe.string(prefix + "photo_size")
            o.qualityGrade = recipe.string(prefix + "quality_grade")
            o.file = recipe.fileURL(prefix + "file")?.path
            o.path = recipe.fileURL(prefix + "path")?.path
            o.urlColumn = recipe.string(prefix + "url_column")
            o.captionColumn = recipe.string(prefix + "caption_column")
            o.keywordColumn = recipe.string(prefix + "keyword_column")
            o.keyword = recipe.string(prefix + "keyword")
            o.format = recipe.string(prefix + "format")
            sourceOptions[name] = o
            if recipe.bool(prefix + "enabled") ?? true { enabled.append(name) }
        }
        if !enabled.isEmpty { sources = enabled }
    }

    public func options(for source: String) -> SourceOptions { sourceOptions[source] ?? SourceOptions() }
}
