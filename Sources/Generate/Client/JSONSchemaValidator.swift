import Foundation
import Dataset

/// Validates a JSON value against the subset of JSON Schema that structured-output requests use: `type`,
/// `properties`, `required`, `additionalProperties` (false), `enum`, `items`, `minItems`/`maxItems`,
/// `minLength`/`maxLength`. Returns the first problem as a message the model can act on, or nil.
public struct JSONSchemaValidator: Sendable {
    private let schemaText: String

    public init(schema: String) {
        schemaText = schema
    }

    /// Validates JSON text (must be an object or value the schema accepts).
    public func validate(text: String) -> String? {
        guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
            return "the reply is not valid JSON"
        }
        guard let schema = try? JSONSerialization.jsonObject(with: Data(schemaText.utf8)) as? [String: Any] else {
            return nil
        }
        return Self.check(value, against: schema, at: "$")
    }

    static func check(_ value: Any, against schema: [String: Any], at path: String) -> String? {
        if let type = schema["type"] as? String, !matches(value, type: type) {
            return "\(path) must be of type \(type)"
        }
        if let types = schema["type"] as? [String], !types.contains(where: { matches(value, type: $0) }) {
            return "\(path) must be one of the types \(types.joined(separator: ", "))"
        }
        if let allowed = schema["enum"] as? [Any], !allowed.contains(where: { equal($0, value) }) {
            let list = allowed.map { "\($0)" }.joined(separator: ", ")
            return "\(path) must be one of: \(list)"
        }
        if let string = value as? String {
            let count = string.count
            if let min = schema["minLength"] as? Int, count < min { return "\(path) must have at least \(min) characters" }
            if let max = schema["maxLength"] as? Int, count > max { return "\(path) must have at most \(max) characters" }
        }
        if let array = value as? [Any] {
            if let min = schema["minItems"] as? Int, array.count < min { return "\(path) must have at least \(min) items" }
            if let max = schema["maxItems"] as? Int, array.count > max { return "\(path) must have at most \(max) items" }
            if let items = schema["items"] as? [String: Any] {
                for (index, element) in array.enumerated() {
                    if let problem = check(element, against: items, at: "\(path)[\(index)]") { return problem }
                }
            }
        }
        if let object = value as? [String: Any] {
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for name in (schema["required"] as? [String] ?? []) where object[name] == nil {
                return "\(path) is missing the required property \"\(name)\""
            }
            if let additional = schema["additionalProperties"] as? Bool, !additional {
                for name in object.keys.sorted() where properties[name] == nil {
                    return "\(path) has the property \"\(name)\", which the schema does not allow"
                }
            }
            for name in object.keys.sorted() {
                if let sub = properties[name] as? [String: Any], let element = object[name],
                   let problem = check(element, against: sub, at: "\(path).\(name)") {
                    return problem
                }
            }
        }
        return nil
    }

    static func matches(_ value: Any, type: String) -> Bool {
        switch type {
        case "object": return value is [String: Any]
        case "array": return value is [Any]
        case "string": return value is String
        case "null": return value is NSNull
        case "boolean": return isBool(value)
        case "integer":
            guard !isBool(value), let number = value as? NSNumber else { return false }
            return number.doubleValue.rounded() == number.doubleValue
        case "number": return !isBool(value) && value is NSNumber
        default: return true
        }
    }

    static func isBool(_ value: Any) -> Bool { JSONValues.isBoolean(value) }

    static func equal(_ a: Any, _ b: Any) -> Bool {
        if let a = a as? String, let b = b as? String { return a == b }
        if let a = a as? NSNumber, let b = b as? NSNumber { return a == b }
        return a is NSNull && b is NSNull
    }
}
