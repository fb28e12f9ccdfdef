import Foundation
import Yams

/// A parsed and validated recipe: every setting of every command, one section per command.
///
/// Values are looked up by dotted path (`collect.sources.commons.base_url`). Command-line options override
/// what the recipe says; `Settings` helpers in each module apply that order.
public struct Recipe: Sendable {
    public let file: String
    public let root: RecipeValue
    public let text: String
    /// The folder relative input paths in this recipe resolve against (`keywords`, a source's `file`/`path`,
    /// `describe.templates_dir`): the folder of the recipe file the user wrote, also after it was stored in a
    /// workspace (`Workspace.storedRecipeDirectory`). Output paths (`shards.out`) are the workspace's.
    public var directory: URL?

    /// An empty recipe: every command uses its defaults.
    public static let empty = Recipe(file: "(none)", root: .map([], line: 0), text: "")

    init(file: String, root: RecipeValue, text: String, directory: URL? = nil) {
        self.file = file
        self.root = root
        self.text = text
        self.directory = directory
    }

    /// Reads and validates a recipe file against the sections the commands declare.
    public static func load(contentsOf url: URL, schema: RecipeSchema) throws(RecipeError) -> Recipe {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw RecipeError(.unreadable, file: url.path, line: 0, key: "", message: "cannot read: \(error.localizedDescription)")
        }
        return try parse(text: text, file: url.path, schema: schema)
    }

    public static func parse(text: String, file: String, schema: RecipeSchema) throws(RecipeError) -> Recipe {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw RecipeError(.syntax, file: file, line: Self.line(of: error), key: "", message: "not valid YAML: \(Self.summary(of: error))")
        } catch {
            throw RecipeError(.syntax, file: file, line: 0, key: "", message: "not valid YAML: \(error)")
        }
        let directory = URL(fileURLWithPath: file).deletingLastPathComponent().standardizedFileURL
        guard let node else { return Recipe(file: file, root: .map([], line: 0), text: text, directory: directory) }
        let value = try RecipeValidator(file: file).validate(node, as: schema.rootType, path: [])
        // The variables the recipe names for its secrets (`*_env` keys) hold secrets from now on; a value of one
        // written anywhere in the recipe is refused like a credential by shape.
        var variables = ["OPENAI_API_KEY"]
        Self.collectVariableNames(value, into: &variables)
        SecretRedactor.register(variables: variables, in: ProcessInfo.processInfo.environment)
        if let (key, line) = Self.firstRegisteredSecret(value, path: []) {
            throw RecipeError(.secretInRecipe, file: file, line: line, key: key,
                              message: "holds the value of a secret environment variable; secrets never go in a recipe")
        }
        return Recipe(file: file, root: value, text: text, directory: directory)
    }

    private static func collectVariableNames(_ value: RecipeValue, into names: inout [String]) {
        guard let entries = value.entries else { return }
        for (key, child) in entries {
            if key.hasSuffix("_env"), let name = child.stringValue, !name.isEmpty { names.append(name) }
            collectVariableNames(child, into: &names)
        }
    }

    private static func firstRegisteredSecret(_ value: RecipeValue, path: [String]) -> (String, Int)? {
        switch value {
        case .string(let text, let line):
            return SecretRedactor.redact(text) != text ? (path.joined(separator: "."), line) : nil
        case .list(let items, _):
            for (i, item) in items.enumerated() { if let hit = firstRegisteredSecret(item, path: path + ["\(i)"]) { return hit } }
            return nil
        case .map(let entries, let line):
            for (key, child) in entries {
                if SecretRedactor.redact(key) != key { return ((path + ["(a key)"]).joined(separator: "."), line) }
                if let hit = firstRegisteredSecret(child, path: path + [key]) { return hit }
            }
            return nil
        default:
            return nil
        }
    }

    /// The value at a dotted path, if the recipe sets it.
    public func value(_ path: String) -> RecipeValue? {
        var current: RecipeValue? = root
        for part in path.split(separator: ".") {
            current = current?[String(part)]
        }
        if case .null = current { return nil }
        return current
    }

    public func string(_ path: String) -> String? { value(path)?.stringValue }
    public func int(_ path: String) -> Int? { value(path)?.intValue }
    public func double(_ path: String) -> Double? { value(path)?.doubleValue }
    public func bool(_ path: String) -> Bool? { value(path)?.boolValue }
    public func strings(_ path: String) -> [String]? {
        guard let v = value(path) else { return nil }
        if let list = v.listValue { return list.compactMap(\.stringValue) }
        if let s = v.stringValue { return s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        return nil
    }
    public func doubles(_ path: String) -> [Double]? { value(path)?.listValue?.compactMap(\.doubleValue) }

    /// A file or folder the recipe names at `path`, resolved against `directory` when relative (`~` expanded).
    public func fileURL(_ path: String) -> URL? {
        guard let text = string(path), !text.isEmpty else { return nil }
        return resolve(text)
    }

    /// A path written in this recipe, resolved against `directory` when relative (`~` expanded).
    public func resolve(_ text: String) -> URL {
        Self.resolve(text, against: directory)
    }

    /// A path a recipe names, resolved against `directory` (else the current directory) when relative.
    static func resolve(_ text: String, against directory: URL?) -> URL {
        let expanded = (text as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return URL(fileURLWithPath: expanded).standardizedFileURL }
        let base = directory ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        return base.appendingPathComponent(expanded).standardizedFileURL
    }

    /// The keys set under a section path (e.g. the source names under `collect.sources`).
    public func keys(_ path: String) -> [String] {
        value(path)?.entries?.map(\.key) ?? []
    }

    /// A JSON rendering of the recipe (no secrets can be in it: the validator refuses them).
    public var json: String { JSONText.encode(root.plain) }

    private static func line(of error: YamlError) -> Int {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return 0
        }
    }

    private static func summary(of error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        default:
            return "\(error)"
        }
    }
}

/// All sections a recipe may have; the CLI assembles it from the modules' settings types.
public struct RecipeSchema: Sendable {
    /// Every settings type, top-level keys (`RecipeHeader`) included: the validator's sections and the
    /// documentation both come from them.
    public let settings: [any RecipeSettings.Type]
    /// Sections checked by shape only (tests' ad-hoc schemas).
    public let sections: [RecipeSection]

    public init(settings: [any RecipeSettings.Type], sections: [RecipeSection] = []) {
        self.settings = settings
        self.sections = sections
    }

    /// Every key, documented, in declaration order.
    public var entries: [RecipeSchemaEntry] { settings.flatMap { $0.schema } }

    var rootType: RecipeType {
        var fields: [String: RecipeType] = [:]
        for type in settings {
            let section = type.recipeSection
            if section.name.isEmpty, case .map(let topLevel) = section.type {
                fields.merge(topLevel) { first, _ in first }
            } else {
                fields[section.name] = section.type
            }
        }
        for section in sections { fields[section.name] = section.type }
        return .map(fields)
    }
}
