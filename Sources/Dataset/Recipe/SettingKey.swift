import Foundation

/// One recipe key of a settings type, declared once: where it lives in its section (`watermark.enabled`), the
/// shape and rule its value must satisfy, what it means, and which property of the settings it sets. The
/// recipe validator, the reader (`RecipeSettings.init(recipe:)`), the run record and `dsbuild recipe --schema`
/// all come from this one declaration, so a key cannot be accepted and then ignored, or read and undocumented.
public struct SettingKey<Settings>: @unchecked Sendable {
    /// The dotted path below the section (`min_short_side`, `watermark.enabled`).
    public let path: String
    /// The value's shape, with its rule when it has one.
    public let type: RecipeType
    /// What the key does, for `recipe --schema`.
    public let help: String
    /// Sets the property from a value the validator has accepted; the URL is the folder relative paths in the
    /// recipe resolve against (`Recipe.directory`).
    let apply: (inout Settings, RecipeValue, URL?) -> Void
    /// The property's current value as JSON (the default in the schema, the value used in the run record).
    let render: (Settings) -> AnyPlain

    /// A key whose reading and rendering are written out (pairs, keywords that map onto flags).
    public static func custom(_ path: String, _ type: RecipeType, help: String,
                              apply: @escaping (inout Settings, RecipeValue) -> Void,
                              render: @escaping (Settings) -> AnyPlain) -> SettingKey {
        SettingKey(path: path, type: type, help: help, apply: { s, v, _ in apply(&s, v) }, render: render)
    }

    /// The same key, recording and documenting what `render` shows instead (a stage value that falls back to
    /// `llm:` records the value it fell back to).
    public func rendered(as render: @escaping (Settings) -> AnyPlain) -> SettingKey {
        SettingKey(path: path, type: type, help: help, apply: apply, render: render)
    }

    /// This key moved below `prefix` of a bigger settings type that holds `Settings` at `keyPath`.
    public func lifted<Root>(into keyPath: WritableKeyPath<Root, Settings>, under prefix: String) -> SettingKey<Root> {
        let apply = self.apply, render = self.render
        return SettingKey<Root>(path: prefix.isEmpty ? path : "\(prefix).\(path)", type: type, help: help,
                                apply: { root, value, directory in apply(&root[keyPath: keyPath], value, directory) },
                                render: { root in render(root[keyPath: keyPath]) })
    }

    private static func checked(_ type: RecipeType, _ rule: ValueRule?) -> RecipeType {
        rule.map { .checked(type, $0) } ?? type
    }

    // MARK: Integers

    public static func int(_ path: String, _ keyPath: WritableKeyPath<Settings, Int>, rule: ValueRule? = nil,
                           help: String) -> SettingKey {
        custom(path, checked(.int, rule), help: help,
               apply: { s, v in if let i = v.intValue { s[keyPath: keyPath] = i } },
               render: { .int($0[keyPath: keyPath]) })
    }

    /// An optional integer; `zeroMeansOff` reads 0 as "no limit" (nil).
    public static func int(_ path: String, _ keyPath: WritableKeyPath<Settings, Int?>, rule: ValueRule? = nil,
                           zeroMeansOff: Bool = false, help: String) -> SettingKey {
        custom(path, checked(.int, rule), help: help,
               apply: { s, v in
                   guard let i = v.intValue else { return }
                   s[keyPath: keyPath] = zeroMeansOff && i == 0 ? nil : i
               },
               render: { $0[keyPath: keyPath].map { .int($0) } ?? .null })
    }

    // MARK: Numbers

    public static func number(_ path: String, _ keyPath: WritableKeyPath<Settings, Double>, rule: ValueRule? = nil,
                              help: String) -> SettingKey {
        custom(path, checked(.number, rule), help: help,
               apply: { s, v in if let d = v.doubleValue { s[keyPath: keyPath] = d } },
               render: { .double($0[keyPath: keyPath]) })
    }

    public static func number(_ path: String, _ keyPath: WritableKeyPath<Settings, Double?>, rule: ValueRule? = nil,
                              help: String) -> SettingKey {
        custom(path, checked(.number, rule), help: help,
               apply: { s, v in if let d = v.doubleValue { s[keyPath: keyPath] = d } },
               render: { $0[keyPath: keyPath].map { .double($0) } ?? .null })
    }

    // MARK: Flags and text

    public static func bool(_ path: String, _ keyPath: WritableKeyPath<Settings, Bool>, help: String) -> SettingKey {
        custom(path, .bool, help: help,
               apply: { s, v in if let b = v.boolValue { s[keyPath: keyPath] = b } },
               render: { .bool($0[keyPath: keyPath]) })
    }

    public static func bool(_ path: String, _ keyPath: WritableKeyPath<Settings, Bool?>, help: String) -> SettingKey {
        custom(path, .bool, help: help,
               apply: { s, v in if let b = v.boolValue { s[keyPath: keyPath] = b } },
               render: { $0[keyPath: keyPath].map { .bool($0) } ?? .null })
    }

    public static func string(_ path: String, _ keyPath: WritableKeyPath<Settings, String>, rule: ValueRule? = nil,
                              help: String) -> SettingKey {
        custom(path, checked(.string, rule), help: help,
               apply: { s, v in if let t = v.stringValue { s[keyPath: keyPath] = t } },
               render: { .string($0[keyPath: keyPath]) })
    }

    public static func string(_ path: String, _ keyPath: WritableKeyPath<Settings, String?>, rule: ValueRule? = nil,
                              help: String) -> SettingKey {
        custom(path, checked(.string, rule), help: help,
               apply: { s, v in if let t = v.stringValue { s[keyPath: keyPath] = t.isEmpty ? nil : t } },
               render: { $0[keyPath: keyPath].map { .string($0) } ?? .null })
    }

    /// A list of strings; a single string is read as a comma-separated list.
    public static func strings(_ path: String, _ keyPath: WritableKeyPath<Settings, [String]>,
                               element: RecipeType = .string, rule: ValueRule? = nil, help: String) -> SettingKey {
        custom(path, checked(.list(element), rule), help: help,
               apply: { s, v in s[keyPath: keyPath] = Self.strings(v) },
               render: { .list($0[keyPath: keyPath].map { .string($0) }) })
    }

    public static func strings(_ path: String, _ keyPath: WritableKeyPath<Settings, [String]?>,
                               element: RecipeType = .string, rule: ValueRule? = nil, help: String) -> SettingKey {
        custom(path, checked(.list(element), rule), help: help,
               apply: { s, v in s[keyPath: keyPath] = Self.strings(v) },
               render: { $0[keyPath: keyPath].map { .list($0.map { .string($0) }) } ?? .null })
    }

    static func strings(_ value: RecipeValue) -> [String] {
        if let list = value.listValue { return list.compactMap(\.stringValue) }
        if let text = value.stringValue {
            return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return []
    }

    // MARK: Files

    /// A file or folder; a relative path resolves against the recipe's folder (`Recipe.directory`), `~` is expanded.
    public static func file(_ path: String, _ keyPath: WritableKeyPath<Settings, URL?>, help: String) -> SettingKey {
        SettingKey(path: path, type: .string, help: help,
                   apply: { s, v, directory in
                       guard let text = v.stringValue, !text.isEmpty else { return }
                       s[keyPath: keyPath] = Recipe.resolve(text, against: directory)
                   },
                   render: { $0[keyPath: keyPath].map { .string($0.path) } ?? .null })
    }

    // MARK: Choices

    /// One of an enum's raw values.
    public static func choice<Choice>(_ path: String, _ keyPath: WritableKeyPath<Settings, Choice>,
                                      help: String) -> SettingKey
    where Choice: RawRepresentable & CaseIterable, Choice.RawValue == String {
        custom(path, .choice(Choice.allCases.map(\.rawValue)), help: help,
               apply: { s, v in if let c = v.stringValue.flatMap(Choice.init(rawValue:)) { s[keyPath: keyPath] = c } },
               render: { .string($0[keyPath: keyPath].rawValue) })
    }

    public static func choice<Choice>(_ path: String, _ keyPath: WritableKeyPath<Settings, Choice?>,
                                      help: String) -> SettingKey
    where Choice: RawRepresentable & CaseIterable, Choice.RawValue == String {
        custom(path, .choice(Choice.allCases.map(\.rawValue)), help: help,
               apply: { s, v in if let c = v.stringValue.flatMap(Choice.init(rawValue:)) { s[keyPath: keyPath] = c } },
               render: { $0[keyPath: keyPath].map { .string($0.rawValue) } ?? .null })
    }

    /// A list of an enum's raw values.
    public static func choices<Choice>(_ path: String, _ keyPath: WritableKeyPath<Settings, [Choice]>,
                                       help: String) -> SettingKey
    where Choice: RawRepresentable & CaseIterable, Choice.RawValue == String {
        custom(path, .list(.choice(Choice.allCases.map(\.rawValue))), help: help,
               apply: { s, v in s[keyPath: keyPath] = Self.strings(v).compactMap(Choice.init(rawValue:)) },
               render: { .list($0[keyPath: keyPath].map { .string($0.rawValue) }) })
    }
}
