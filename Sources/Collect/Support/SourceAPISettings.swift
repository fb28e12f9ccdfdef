import Dataset

/// What every source with a search API takes besides its own options (`collect.sources.<name>.base_url`,
/// `per_keyword`, `requests_per_minute`), starting from the source's `SourceAPI` defaults.
public struct SourceAPISettings: Sendable {
    /// The API root requests go to.
    public var baseURL: String
    /// This source's candidates per keyword; nil uses `collect.per_keyword`.
    public var perKeyword: Int?
    /// Requests per minute to `baseURL`; nil leaves the rate unlimited.
    public var requestsPerMinute: Double?

    public init(_ api: SourceAPI) {
        baseURL = api.baseURL
        requestsPerMinute = api.requestsPerMinute
    }

    public static let keys: [SettingKey<SourceAPISettings>] = [
        .string("base_url", \.baseURL, rule: .httpURL, help: "the API root requests go to (tests point it at a loopback server)"),
        .int("per_keyword", \.perKeyword, rule: CollectSettings.perKeywordRule,
             help: "this source's candidates per keyword instead of collect.per_keyword"),
        .number("requests_per_minute", \.requestsPerMinute, rule: .greaterThan(0),
                help: "the most API requests a minute (default: what the API's terms ask)"),
    ]
}
