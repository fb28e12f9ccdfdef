import Dataset
import Foundation

/// Everything `dsbuild collect` needs: defaults ← the recipe's `collect:` section ← command-line options.
///
/// Every `collect.*` key is declared once: the search keys here, the download keys in `DownloadSettings`, each
/// source's keys beside the source (`RegisteredSource`), lifted under `sources.<name>` for every source in
/// `ImageSources.all`.
public struct CollectSettings: RecipeSettings {
    public static let sectionName = "collect"

    /// The sources searched, in order: those the recipe names under `sources` (unless `enabled: false`; none
    /// when it switches off all it names), else commons; `--sources` replaces them.
    public var sources: [String] = [CommonsSource.sourceName]
    public var perKeyword = 50
    public var licenses = LicenseFilter.openDefault
    public var download = DownloadSettings()
    /// Each API source's endpoint, rate and limit, by source name.
    public var api: [String: SourceAPISettings] = [:]
    /// Each source's own options, by source name.
    var options: [String: any SourceOptions] = [:]
    /// Source API requests in flight (Commons asks for serial requests; keep this small).
    public var searchConcurrency = 2
    /// Search only: record candidates, download nothing.
    public var searchOnly = false
    /// Sources the recipe names with `enabled: false`.
    var switchedOff: Set<String> = []

    public init() {
        for kind in ImageSources.all {
            if let defaults = kind.api { api[kind.sourceName] = SourceAPISettings(defaults) }
            options[kind.sourceName] = kind.defaultOptions()
        }
    }

    /// `collect.per_keyword`, `sources.<name>.per_keyword` and `--per-keyword`.
    public static let perKeywordRule = ValueRule.atLeast(1)

    public static let keys: [SettingKey<CollectSettings>] =
        [
            .int("per_keyword", \.perKeyword, rule: perKeywordRule, help: "candidates per keyword and source, after the licence filter"),
            .custom("licenses", .checked(.list(.string), LicenseFilter.rule),
                    help: "licences accepted (cc0, pdm, cc-by, cc-by-sa, …); `any` accepts every licence",
                    apply: { s, v in
                        let names = v.listValue?.compactMap(\.stringValue) ?? v.stringValue.map { [$0] } ?? []
                        if let filter = try? LicenseFilter(parsing: names) { s.licenses = filter }
                    },
                    render: { s in .list(s.licenses.names.map { .string($0) }) }),
        ]
        + DownloadSettings.keys.map { $0.lifted(into: \CollectSettings.download, under: "") }
        + ImageSources.all.flatMap { $0.collectKeys }

    /// Reads the recipe's `collect:` section over the defaults. The User-Agent contact is
    /// `collect.user_agent_contact`, else the top-level `contact`; a source's input paths resolve against the
    /// recipe's folder (`Recipe.directory`).
    public init(recipe: Recipe) {
        self.init()
        if let contact = RecipeHeader(recipe: recipe).contact { download.userAgentContact = contact }
        apply(recipe)
        // A recipe that names sources searches those it does not switch off — none, when it switches off all it
        // names (commons is the default only of a recipe that names no source).
        let named = recipe.keys(Self.fullPath("sources"))
        if !named.isEmpty { sources = named.filter { !switchedOff.contains($0) } }
        for name in options.keys {
            options[name]?.resolvePaths { recipe.resolve($0).path }
        }
    }

    /// A source's own options.
    public subscript<Source: RegisteredSource>(_ source: Source.Type) -> Source.Options {
        get { self[options: Source.sourceName] }
        set { self[options: Source.sourceName] = newValue }
    }

    subscript<Options: SourceOptions>(options name: String) -> Options {
        get { options[name] as? Options ?? Options() }
        set { options[name] = newValue }
    }

    subscript(api name: String) -> SourceAPISettings {
        get { api[name] ?? SourceAPISettings(SourceAPI(baseURL: "")) }
        set { api[name] = newValue }
    }

    /// One limit for every source (`--per-keyword`): it replaces the recipe's per-source limits too.
    public mutating func setPerKeywordForEverySource(_ limit: Int) {
        perKeyword = limit
        for name in api.keys { api[name]?.perKeyword = nil }
    }

    /// Builds the source called `name` from its settings.
    func makeSource(_ name: String, environment: [String: String]) throws(CollectError) -> any ImageSource {
        guard let kind = ImageSources.named(name) else {
            throw CollectError(.invalidSetting, item: "--sources",
                               detail: "unknown source \(name); use \(ImageSources.names.joined(separator: ", "))")
        }
        return try make(kind, environment: environment)
    }

    private func make<Source: RegisteredSource>(_ kind: Source.Type, environment: [String: String]) throws(CollectError) -> Source {
        try Source.make(self[kind], setup: SourceSetup(baseURL: api[Source.sourceName]?.baseURL ?? "", environment: environment))
    }
}
