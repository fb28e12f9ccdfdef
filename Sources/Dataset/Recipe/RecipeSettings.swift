/// A command's settings, declared once as a list of `SettingKey`s over a value that holds the defaults.
///
/// Every command reads its settings the same way: defaults (`init()`) ← the recipe's section
/// (`init(recipe:)`) ← command-line options (set by the command afterwards). The recipe section the validator
/// checks, the documentation `dsbuild recipe --schema` prints and the settings a run records (`record`) are all
/// derived from `keys`, so they cannot drift apart.
public protocol RecipeSettings: Sendable {
    /// The recipe section (`filter`, `llm`); empty for top-level keys.
    static var sectionName: String { get }
    /// Every key of the section.
    static var keys: [SettingKey<Self>] { get }
    /// The defaults.
    init()
    /// Defaults, then the recipe's section. A type whose keys interact (a list derived from several keys, a
    /// fallback to another section) implements it; the default applies each key in turn.
    init(recipe: Recipe)
}

extension RecipeSettings {
    /// Reads the recipe's section over the defaults.
    public init(recipe: Recipe) {
        self.init()
        apply(recipe)
    }

    /// Sets every key the recipe's section sets (keys it leaves out keep their current value).
    public mutating func apply(_ recipe: Recipe) {
        for key in Self.keys {
            if let value = recipe.value(Self.fullPath(key.path)) { key.apply(&self, value, recipe.directory) }
        }
    }

    /// Every key's path, shape and help, without the settings type (usable on `any RecipeSettings.Type`).
    public static var declaredKeys: [SettingDeclaration] {
        keys.map { SettingDeclaration(path: $0.path, type: $0.type, help: $0.help) }
    }

    /// The full dotted path of a key of this section.
    public static func fullPath(_ path: String) -> String {
        sectionName.isEmpty ? path : "\(sectionName).\(path)"
    }

    /// The section as the recipe validator checks it.
    public static var recipeSection: RecipeSection {
        RecipeSection(sectionName, type: .map(RecipeSettingsTree.fields(keys.map { ($0.path, $0.type) })))
    }

    /// The values these settings hold, nested as in the recipe (what a run records).
    public var record: AnyPlain {
        RecipeSettingsTree.nest(Self.keys.map { ($0.path, $0.render(self)) })
    }

    /// The record as JSON text.
    public var recordJSON: String { JSONText.encode(record) }

    /// One line of documentation per key: its full path, shape, default and meaning.
    public static var schema: [RecipeSchemaEntry] {
        let defaults = Self()
        return keys.map { key in
            RecipeSchemaEntry(key: fullPath(key.path), type: key.type.label, defaultValue: key.render(defaults),
                              help: key.help)
        }
    }
}

/// A key's declaration without its settings type.
public struct SettingDeclaration: Sendable {
    public let path: String
    public let type: RecipeType
    public let help: String
}

/// One documented recipe key (`dsbuild recipe --schema`).
public struct RecipeSchemaEntry: Sendable, Encodable {
    public let key: String
    public let type: String
    public let defaultValue: AnyPlain
    public let help: String

    enum CodingKeys: String, CodingKey {
        case key, type, help
        case defaultValue = "default"
    }
}

/// Turns dotted paths into nested mappings, for the validator's type and for the recorded settings.
enum RecipeSettingsTree {
    static func fields(_ entries: [(String, RecipeType)]) -> [String: RecipeType] {
        var leaves: [String: RecipeType] = [:]
        var children: [String: [(String, RecipeType)]] = [:]
        for (path, type) in entries {
            if let dot = path.firstIndex(of: ".") {
                children[String(path[..<dot]), default: []].append((String(path[path.index(after: dot)...]), type))
            } else {
                leaves[path] = type
            }
        }
        for (name, entries) in children { leaves[name] = .map(fields(entries)) }
        return leaves
    }

    static func nest(_ entries: [(String, AnyPlain)]) -> AnyPlain {
        var order: [String] = []
        var leaves: [String: AnyPlain] = [:]
        var children: [String: [(String, AnyPlain)]] = [:]
        for (path, value) in entries {
            let head: String
            if let dot = path.firstIndex(of: ".") {
                head = String(path[..<dot])
                children[head, default: []].append((String(path[path.index(after: dot)...]), value))
            } else {
                head = path
                leaves[head] = value
            }
            if !order.contains(head) { order.append(head) }
        }
        return .map(order.map { head in (head, children[head].map(nest) ?? leaves[head] ?? .null) })
    }
}
