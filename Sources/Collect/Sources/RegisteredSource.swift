import Dataset
import Foundation

/// A source collect can be asked for by name, declared once beside its code: its name, its own recipe options
/// (`collect.sources.<name>.…`), its API's defaults and how to build it. Listed once in `ImageSources.all`; the
/// recipe section, `recipe --schema`, `--sources` and the collector all come from that list.
public protocol RegisteredSource: ImageSource {
    /// The source's own options; `NoSourceOptions` when it has none.
    associatedtype Options: SourceOptions = NoSourceOptions

    /// The name in recipes, `--sources` and `candidates.source`.
    static var sourceName: String { get }
    /// The API it searches, with its defaults; nil for a source that calls none (a list, a folder). A source with
    /// an API takes `base_url`, `per_keyword` and `requests_per_minute` besides its own options.
    static var api: SourceAPI? { get }
    /// Builds the source from its options and what collect resolved for it.
    static func make(_ options: Options, setup: SourceSetup) throws(CollectError) -> Self
}

/// A source's search API: where requests go and the rate its terms ask for, unless the recipe says otherwise.
public struct SourceAPI: Sendable {
    public let baseURL: String
    /// Requests per minute; nil leaves the rate unlimited (concurrency still bounds it).
    public let requestsPerMinute: Double?

    public init(baseURL: String, requestsPerMinute: Double? = nil) {
        self.baseURL = baseURL
        self.requestsPerMinute = requestsPerMinute
    }
}

/// What collect hands a source's `make` besides its options.
public struct SourceSetup: Sendable {
    /// The API root in use (`base_url` or the source's default); empty for a source without an API.
    public let baseURL: String
    /// Where credentials are read from (never the recipe).
    public let environment: [String: String]

    public init(baseURL: String, environment: [String: String]) {
        self.baseURL = baseURL
        self.environment = environment
    }
}

/// One source's own options, declared as `SettingKey`s relative to `collect.sources.<name>`.
public protocol SourceOptions: Sendable {
    /// Every option of the source.
    static var keys: [SettingKey<Self>] { get }
    /// The defaults.
    init()
    /// Resolves input paths the recipe wrote relative to its own folder (`resolve` gives the absolute path).
    mutating func resolvePaths(_ resolve: (String) -> String)
}

extension SourceOptions {
    public mutating func resolvePaths(_ resolve: (String) -> String) {}
}

/// The options of a source that has none of its own.
public struct NoSourceOptions: SourceOptions {
    public static let keys: [SettingKey<NoSourceOptions>] = []
    public init() {}
}
