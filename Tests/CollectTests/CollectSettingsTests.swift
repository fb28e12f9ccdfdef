@testable import Collect
import Dataset
import Foundation
import GRDB
import Logging
import Testing
import _DSBuildTestSupport

/// Issue 16 for `collect:`: each key is declared once (type, rule, default, help), read, documented and recorded,
/// and `ImageSources.all` is the only place a source is listed.
@Suite struct CollectSettingsTests {
    static let schema = RecipeSchema(settings: [RecipeHeader.self, CollectSettings.self])
    static let recipeFile = "/tmp/dsbuild-collect-settings/recipes/r.yaml"

    static func parse(_ yaml: String) throws -> Recipe {
        try Recipe.parse(text: yaml, file: recipeFile, schema: schema)
    }

    /// A `collect:` section setting each dotted path (below `collect`) to its YAML text.
    static func collectSection(_ entries: [(path: String, yaml: String)]) -> String {
        var lines = ["collect:"]
        var open: [Substring] = []
        for entry in entries {
            let parts = entry.path.split(separator: ".")
            var shared = 0
            while shared < min(open.count, parts.count - 1), open[shared] == parts[shared] { shared += 1 }
            open = Array(open.prefix(shared))
            for part in parts.dropLast().dropFirst(shared) {
                lines.append(String(repeating: "  ", count: open.count + 1) + "\(part):")
                open.append(part)
            }
            lines.append(String(repeating: "  ", count: open.count + 1) + "\(parts.last!): \(entry.yaml)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func lookup(_ plain: AnyPlain, _ path: String) -> AnyPlain? {
        var current = plain
        for part in path.split(separator: ".") {
            guard case .map(let items) = current, let next = items.first(where: { $0.0 == part })?.1 else { return nil }
            current = next
        }
        return current
    }

    /// A valid value other than `current` for a key of `type`.
    static func otherValue(_ type: RecipeType, current: AnyPlain, path: String) -> String? {
        switch type {
        case .checked(let inner, _): return otherValue(inner, current: current, path: path)
        case .int: if case .int(let i) = current { return "\(i + 1)" } else { return "2" }
        case .number: if case .double(let d) = current { return "\(d + 1.5)" } else { return "1.5" }
        case .bool: if case .bool(let b) = current { return b ? "false" : "true" } else { return "true" }
        case .string:
            let name = path.split(separator: ".").last!
            return name == "base_url" ? "http://127.0.0.1:9/changed" : "changed-\(name)"
        case .choice(let values): return values.first { AnyPlain.string($0) != current }
        case .list:
            switch path {
            case "licenses": return "[cc0]"
            case "allow_hosts": return "[\"127.0.0.1:9\"]"
            default: return nil
            }
        default: return nil
        }
    }

    // MARK: Every key is read

    @Test(arguments: CollectSettings.keys.map(\.path))
    func everyKeySetInARecipeChangesTheAppliedSettings(path: String) throws {
        let key = try #require(CollectSettings.keys.first { $0.path == path })
        let defaults = try #require(Self.lookup(CollectSettings().record, path), "\(path) is not recorded")
        let value = try #require(Self.otherValue(key.type, current: defaults, path: path), "no test value for \(path)")
        var entries = [(path: path, yaml: value)]
        // Switching the default source off only shows once another source is named.
        if path == "sources.commons.enabled" { entries.append((path: "sources.gbif.enabled", yaml: "true")) }
        let applied = CollectSettings(recipe: try Self.parse(Self.collectSection(entries)))
        let after = try #require(Self.lookup(applied.record, path))
        #expect(after != defaults, "\(path): \(value) left \(JSONText.encode(after))")
    }

    @Test func aSourcesSettingsReachTheSourceItBuilds() throws {
        let recipe = try Self.parse(Self.collectSection([
            (path: "sources.commons.base_url", yaml: "http://127.0.0.1:9/root"),
            (path: "sources.commons.thumbnail_width", yaml: "400"),
            (path: "sources.inaturalist.photo_size", yaml: "medium"),
            (path: "sources.inaturalist.quality_grade", yaml: "needs_id"),
        ]))
        let settings = CollectSettings(recipe: recipe)
        #expect(settings.sources == ["commons", "inaturalist"])
        let commons = try #require(try settings.makeSource("commons", environment: [:]) as? CommonsSource)
        #expect(commons.baseURL == "http://127.0.0.1:9/root")
        #expect(commons.thumbnailWidth == 500)
        let inaturalist = try #require(try settings.makeSource("inaturalist", environment: [:]) as? INaturalistSource)
        #expect(inaturalist.baseURL == INaturalistSource.defaultBaseURL)
        #expect(inaturalist.photoSize == "medium" && inaturalist.qualityGrade == "needs_id")
        #expect(settings.api["inaturalist"]?.requestsPerMinute == 60 && settings.api["commons"]?.requestsPerMinute == nil)
    }

    @Test func thumbnailWidthZeroAsksForTheOriginal() throws {
        let settings = CollectSettings(recipe: try Self.parse(Self.collectSection([(path: "sources.commons.thumbnail_width", yaml: "0")])))
        let commons = try #require(try settings.makeSource("commons", environment: [:]) as? CommonsSource)
        #expect(commons.thumbnailWidth == nil)
    }

    @Test func inputPathsResolveAgainstTheRecipesFolder() throws {
        let settings = CollectSettings(recipe: try Self.parse(Self.collectSection([
            (path: "sources.urls.file", yaml: "lists/l.csv"), (path: "sources.directory.path", yaml: "../photos"),
        ])))
        #expect(settings[URLListSource.self].file == "/tmp/dsbuild-collect-settings/recipes/lists/l.csv")
        #expect(settings[DirectorySource.self].path == "/tmp/dsbuild-collect-settings/photos")
    }

    @Test func theContactIsCollectsElseTheTopLevelOne() throws {
        let header = try Self.parse("contact: mailto:top@example.org\n")
        #expect(CollectSettings(recipe: header).download.userAgent.contains("(+mailto:top@example.org)"))
        let both = try Self.parse("contact: mailto:top@example.org\ncollect:\n  user_agent_contact: https://own.example.org\n")
        #expect(CollectSettings(recipe: both).download.userAgentContact == "https://own.example.org")
        #expect(CollectSettings(recipe: .empty).download.userAgentContact == DownloadSettings().userAgentContact)
    }

    @Test func enabledFalseLeavesASourceOutAndOnlyARecipeNamingNoSourceMeansCommons() throws {
        let settings = CollectSettings(recipe: try Self.parse(Self.collectSection([
            (path: "sources.commons.enabled", yaml: "false"), (path: "sources.openverse.base_url", yaml: "http://127.0.0.1:9"),
            (path: "sources.gbif.per_keyword", yaml: "3"),
        ])))
        #expect(settings.sources == ["openverse", "gbif"])
        let offOnly = CollectSettings(recipe: try Self.parse(Self.collectSection([(path: "sources.gbif.enabled", yaml: "false")])))
        #expect(offOnly.sources.isEmpty)  // a recipe that names sources has no default one
        let bare = CollectSettings(recipe: try Self.parse("collect:\n  sources:\n    openverse:\n    gbif: {}\n"))
        #expect(bare.sources == ["openverse", "gbif"])
        let commonsOff = CollectSettings(recipe: try Self.parse(Self.collectSection([(path: "sources.commons.enabled", yaml: "false")])))
        #expect(commonsOff.sources.isEmpty)
    }

    // MARK: The schema documents every key

    @Test func everyKeyIsDeclaredOnceAndDocumented() {
        let entries = CollectSettings.schema
        #expect(entries.count == CollectSettings.keys.count)
        #expect(Set(entries.map(\.key)).count == entries.count, "a key is declared twice")
        for entry in entries {
            #expect(entry.key.hasPrefix("collect."))
            #expect(!entry.help.isEmpty && !entry.type.isEmpty, "\(entry.key)")
        }
        let defaults = Dictionary(uniqueKeysWithValues: entries.map { ($0.key, $0.defaultValue) })
        #expect(defaults["collect.per_keyword"] == .int(50))
        #expect(defaults["collect.sources.commons.base_url"] == .string(CommonsSource.defaultBaseURL))
        #expect(defaults["collect.sources.inaturalist.requests_per_minute"] == .double(60))
        #expect(defaults["collect.sources.flickr.api_key_env"] == .string("FLICKR_API_KEY"))
        #expect(defaults["collect.licenses"] == .list(["cc-by", "cc-by-sa", "cc0", "pdm"].map { .string($0) }))
    }

    static func ownKeys<Source: RegisteredSource>(_ source: Source.Type) -> [String] {
        Source.Options.keys.map(\.path)
    }

    /// The list is the only place: each listed source's keys are in the schema, API keys only where it has an API.
    @Test func everyListedSourcesKeysAreInTheSchema() {
        let documented = Set(CollectSettings.schema.map(\.key))
        #expect(ImageSources.names == ["commons", "inaturalist", "openverse", "gbif", "flickr", "urls", "directory"])
        for source in ImageSources.all {
            let prefix = "collect.sources.\(source.sourceName)."
            let own = Self.ownKeys(source).map { prefix + $0 }
            let api = ["base_url", "per_keyword", "requests_per_minute"].map { prefix + $0 }
            for key in own + [prefix + "enabled"] { #expect(documented.contains(key), "\(key)") }
            for key in api { #expect(documented.contains(key) == (source.api != nil), "\(key)") }
            let all = documented.filter { $0.hasPrefix(prefix) }
            #expect(all.count == own.count + 1 + (source.api != nil ? api.count : 0), "\(source.sourceName): \(all.sorted())")
        }
    }

    @Test(arguments: [
        ("collect:\n  sources:\n    picsum:\n      base_url: http://x\n", "collect.sources.picsum", 3),
        ("collect:\n  sources:\n    commons:\n      photo_size: large\n", "collect.sources.commons.photo_size", 4),
        ("collect:\n  sources:\n    urls:\n      per_keyword: 3\n", "collect.sources.urls.per_keyword", 4),
        ("collect:\n  sources:\n    directory:\n      file: photos\n", "collect.sources.directory.file", 4),
        ("collect:\n  sources:\n    gbif:\n      api_key_env: KEY\n", "collect.sources.gbif.api_key_env", 4),
    ])
    func anUnknownSourceOrAnotherSourcesKeyIsAnUnknownKey(yaml: String, key: String, line: Int) {
        #expect {
            _ = try Self.parse(yaml)
        } throws: { error in
            guard let error = error as? RecipeError else { return false }
            return error.code == .unknownKey && error.key == key && error.line == line && error.file == Self.recipeFile
                && error.description.contains("r.yaml:\(line)")
        }
    }

    @Test(arguments: [
        ("per_keyword: 0", "collect.per_keyword"), ("concurrency: 0", "collect.concurrency"),
        ("max_attempts: 0", "collect.max_attempts"), ("timeout_seconds: 0", "collect.timeout_seconds"),
        ("licenses: [bogus]", "collect.licenses"), ("allow_hosts: [\"10.0.0.0/99\"]", "collect.allow_hosts"),
        ("sources:\n    urls:\n      format: xlsx", "collect.sources.urls.format"),
        ("sources:\n    commons:\n      requests_per_minute: 0", "collect.sources.commons.requests_per_minute"),
    ])
    func aBadValueIsRefusedWhenTheRecipeIsRead(yaml: String, key: String) {
        #expect {
            _ = try Self.parse("collect:\n  \(yaml)\n")
        } throws: { error in
            (error as? RecipeError)?.code == .badValue && (error as? RecipeError)?.key == key
        }
    }

    // MARK: The run records what it applied

    @Test func theRunRecordsTheSettingsItApplied() async throws {
        let dir = TemporaryDirectory("dsbuild-collect-record")
        let input = dir.path("photos/kimchi")
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        try Data("not an image".utf8).write(to: input.appendingPathComponent("a.jpg"))
        let workspace = try Workspace.create(at: dir.path("ws"))
        var settings = CollectSettings()
        settings.sources = ["directory"]
        settings[DirectorySource.self].path = dir.path("photos").path
        settings.setPerKeywordForEverySource(7)
        settings.download.userAgentContact = "mailto:record@example.org"
        let collector = Collector(workspace: workspace, settings: settings,
                                  logger: Logger(label: "test"),
                                  environment: ["FLICKR_API_KEY": "flickr-secret-1234"])
        _ = try await collector.run(runner: .quiet(workspace))
        let recorded = try workspace.manifest.read { db in
            try String.fetchAll(db, sql: "SELECT settings FROM runs WHERE command IN ('search', 'download') ORDER BY id")
        }
        #expect(recorded.count == 2)
        for json in recorded {
            #expect(json == settings.recordJSON)
            #expect(json.contains("\"per_keyword\":7") && json.contains("mailto:record@example.org"), "\(json)")
            #expect(json.contains(dir.path("photos").path) && !json.contains("flickr-secret-1234"))
        }
    }
}
