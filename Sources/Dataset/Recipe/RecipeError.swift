/// A recipe that cannot be used: names the file, the line and the key, and says what was expected.
public struct RecipeError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Code: Sendable, Equatable {
        case unreadable
        case syntax
        case unknownKey
        case wrongType
        case secretInRecipe
        case badValue
    }

    public let code: Code
    public let file: String
    public let line: Int
    public let key: String
    public let message: String

    public init(_ code: Code, file: String, line: Int, key: String, message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        let place = line > 0 ? "\(file):\(line)" : file
        return key.isEmpty ? "\(place): \(message)" : "\(place): `\(key)`: \(message)"
    }
}
