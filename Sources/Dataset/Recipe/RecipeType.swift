/// The shape a recipe value must have. Each stage declares its section with these, so an unknown key or a
/// wrong type is caught when the recipe is read, with the key, the file and the line.
public indirect enum RecipeType: Sendable {

    case string
    case int
    /// A number, integer or not.
    case number
    case bool
    /// One of these strings.
    case choice([String])
    case list(RecipeType)
    /// A mapping with exactly these optional keys.
    case map([String: RecipeType])
    /// A mapping with any keys, each value of this type.
    case dictionary(RecipeType)
    /// A mapping with these keys whose other keys must be of the second type.
    case mapWithExtra([String: RecipeType], RecipeType)
    /// Any of these types (the first that fits wins).
    case oneOf([RecipeType])
    /// A value of the type that must also satisfy the rule (the same rule its command-line option applies).
    case checked(RecipeType, ValueRule)

    var label: String {
        switch self {
        case .string: return "a string"
        case .int: return "an integer"
        case .number: return "a number"
        case .bool: return "true or false"
        case .choice(let values): return "one of \(values.joined(separator: ", "))"
        case .list(let element): return "a list of \(element.label)"
        case .map, .mapWithExtra, .dictionary: return "a mapping"
        case .oneOf(let types): return types.map(\.label).joined(separator: " or ")
        case .checked(let type, let rule): return "\(type.label), \(rule.summary)"
        }
    }
}

/// One top-level section of the recipe, declared by the module that owns the command.
public struct RecipeSection: Sendable {
    public let name: String
    public let type: RecipeType

    public init(_ name: String, _ fields: [String: RecipeType]) {
        self.name = name
        self.type = .map(fields)
    }

    public init(_ name: String, type: RecipeType) {
        self.name = name
        self.type = type
    }
}
