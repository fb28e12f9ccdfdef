import Collect
import Dataset
import Filter
import Foundation
import Generate
import Testing
import Train
import _DSBuildTestSupport

/// Issue 16, "typed settings, declared once": every recipe key comes from one `SettingKey` declaration, and from
/// it the validator, the reader, the run record and `dsbuild recipe --schema`. Each key is set in turn to a value
/// its own declaration accepts and that differs from its default, and must then change the settings it
/// declares; the documented schema must list exactly those keys.
@Suite struct RecipeSchemaTests {
    let tmp = TemporaryDirectory("dsbuild-recipe-schema")
    let cli = CommandRunner()

    /// Every settings type the commands read (the CLI's `recipeSchema` must list the same keys; checked below).
    static let settingsTypes: [any RecipeSettings.Type] = [
        RecipeHeader.self, LLMSettings.self, CollectSettings.self, FilterSettings.self, DescribeSettings.self,
        MCQSettings.self, ShardsSection.self, PublishSection.self, TrainSection.self, EvalSection.self,
    ]

    @Test(arguments: settingsTypes.map { SettingsType($0) })
    func everyKeyOfASectionChangesTheSettingsItDeclares(_ type: SettingsType) throws {
        let schema = RecipeSchema(settings: [type.type])
        let defaults = type.type.init().record
        #expect(!type.type.declaredKeys.isEmpty)
        var paths = Set<String>()
        for key in type.type.declaredKeys {
            #expect(paths.insert(key.path).inserted, "\(key.path) is declared twice")
            #expect(!key.help.isEmpty, "\(key.path) has no help")
            let before = defaults.at(key.path)
            var changed = false
            for candidate in Self.candidates(key.type) {
                let text = Self.yaml(section: type.type.sectionName, path: key.path, value: candidate)
                let recipe: Recipe
                do {
                    recipe = try Recipe.parse(text: text, file: "r.yaml", schema: schema)
                } catch {
                    Issue.record("\(type.type.fullPath(key.path)) = \(JSONText.encode(candidate)) passes its own rule but the validator refused it: \(error)")
                    continue
                }
                if type.type.init(recipe: recipe).record.at(key.path) != before { changed = true; break }
            }
            #expect(changed, "setting \(type.type.fullPath(key.path)) never changes the settings it declares")
        }
    }

    @Test(arguments: settingsTypes.map { SettingsType($0) })
    func aKeyNotDeclaredIsRefusedWithTheFileTheLineAndTheKey(_ type: SettingsType) {
        guard !type.type.sectionName.isEmpty else { return }
        let schema = RecipeSchema(settings: [type.type])
        let text = "\(type.type.sectionName):\n  no_such_key: 1\n"
        #expect {
            _ = try Recipe.parse(text: text, file: "r.yaml", schema: schema)
        } throws: { error in
            guard let error = error as? RecipeError else { return false }
            return error.code == .unknownKey && error.line == 2 && error.key == "\(type.type.sectionName).no_such_key"
                && error.description.contains("r.yaml")
        }
    }

    @Test func theCommandsSchemaDocumentsEveryDeclaredKeyWithItsDefault() throws {
        let result = try cli.run(["recipe", "--schema", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let entries = try #require(json["keys"] as? [[String: Any]])
        let printed = Set(entries.compactMap { $0["key"] as? String })
        let declared = Set(Self.settingsTypes.flatMap { type in type.declaredKeys.map { type.fullPath($0.path) } })
        // Every section is a settings type: the schema is exactly the declared keys.
        #expect(declared == printed, "undocumented: \(declared.subtracting(printed).sorted()), undeclared: \(printed.subtracting(declared).sorted())")
        for entry in entries {
            #expect(entry["type"] is String && entry["help"] is String && entry.keys.contains("default"), "\(entry)")
        }
        let filter = try #require(entries.first { $0["key"] as? String == "filter.min_short_side" })
        #expect(filter["default"] as? Int == 512)
        #expect((filter["type"] as? String)?.contains("at least 0") == true)

        let text = try cli.run(["recipe", "--schema"])
        #expect(text.status == 0)
        #expect(text.stdout.contains("shards.image_format"))
        #expect(text.stdout.contains("one of jpeg, png"))
    }

    @Test func aRecipeFilePrintsTheSettingsItAmountsTo() throws {
        let file = tmp.path("r.yaml")
        try "name: demo\nfilter:\n  min_short_side: 0\n  duplicates:\n    phash_distance: 5\nshards:\n  image_format: png\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let result = try cli.run(["recipe", file.path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(json["name"] as? String == "demo")
        let filter = try #require(json["filter"] as? [String: Any])
        #expect(filter["min_short_side"] is NSNull)  // 0 turns the limit off
        #expect((filter["duplicates"] as? [String: Any])?["phash_distance"] as? Int == 5)
        #expect((json["shards"] as? [String: Any])?["image_format"] as? String == "png")
        #expect((json["shards"] as? [String: Any])?["quality"] as? Int == 90)

        try "shards:\n  quality: 101\n".write(to: file, atomically: true, encoding: .utf8)
        let bad = try cli.run(["recipe", file.path])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("shards.quality") && bad.stderr.contains("r.yaml:2"), "\(bad.stderr)")
    }

    // MARK: Values

    /// Values of `type`, the ones its rule refuses left out; the first that moves the setting is used.
    static func candidates(_ type: RecipeType) -> [AnyPlain] {
        switch type {
        // Strings some rules ask for: a training mode, a colour, a split, a licence, an endpoint, a keyword prompt, a language code.
        case .string: return ["sample-value", "paired", "#123456", "train", "cc0", "http://127.0.0.1:9/v1", "{keyword}, a {category}", "ko"].map { .string($0) }
        case .int: return [0, 1, 2, 3, 7, 64, 1000, 9_999_999].map { .int($0) }
        case .number: return [0.25, 0.5, 0, 1, 1.5, 3, 100].map { .double($0) }
        case .bool: return [.bool(false), .bool(true)]
        case .choice(let values): return values.map { .string($0) }
        case .list(let element):
            let items = candidates(element)
            return items.map { .list([$0]) } + (items.count > 1 ? [.list(Array(items.prefix(2)))] : [])
        case .dictionary(let value): return candidates(value).map { .map([("visual", $0)]) }
        case .map(let fields):
            // One mapping with a candidate of every field (`llm.prices.<model>`).
            let entries = fields.sorted { $0.key < $1.key }.compactMap { key, type in candidates(type).first.map { (key, $0) } }
            return entries.isEmpty ? [] : [.map(entries)]
        case .mapWithExtra: return []
        case .oneOf(let types): return types.flatMap(candidates)
        case .checked(let inner, let rule):
            return candidates(inner).filter { rule.problem($0.recipeValue) == nil }
        }
    }

    /// A recipe setting one key (JSON is YAML's flow style).
    static func yaml(section: String, path: String, value: AnyPlain) -> String {
        let parts = (section.isEmpty ? [] : [section]) + path.split(separator: ".").map(String.init)
        var lines: [String] = []
        for (depth, part) in parts.enumerated() {
            let indent = String(repeating: "  ", count: depth)
            lines.append(depth == parts.count - 1 ? "\(indent)\(part): \(JSONText.encode(value))" : "\(indent)\(part):")
        }
        return lines.joined(separator: "\n") + "\n"
    }
}

/// A settings type as a test argument.
struct SettingsType: Sendable, CustomTestStringConvertible {
    let type: any RecipeSettings.Type
    init(_ type: any RecipeSettings.Type) { self.type = type }
    var testDescription: String { type.sectionName.isEmpty ? "top level" : type.sectionName }
}

extension AnyPlain {
    /// The value at a dotted path of nested mappings (`.null` when absent).
    func at(_ path: String) -> AnyPlain {
        var current = self
        for part in path.split(separator: ".") {
            guard case .map(let entries) = current, let next = entries.first(where: { $0.0 == part })?.1 else { return .null }
            current = next
        }
        return current
    }

    /// The value as a recipe value (for rule checks).
    var recipeValue: RecipeValue {
        switch self {
        case .string(let s): return .string(s, line: 0)
        case .int(let i): return .int(i, line: 0)
        case .double(let d): return .number(d, line: 0)
        case .bool(let b): return .bool(b, line: 0)
        case .null: return .null(line: 0)
        case .list(let items): return .list(items.map(\.recipeValue), line: 0)
        case .map(let entries): return .map(entries.map { ($0.0, $0.1.recipeValue) }, line: 0)
        }
    }
}
