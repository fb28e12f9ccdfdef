import Foundation

/// Reading values `JSONSerialization` produced.
public enum JSONValues {
    /// Whether `value` is a JSON boolean (`true`, `false`) rather than a number. `is Bool` alone cannot tell: a JSON
    /// `1`, `0` or `1.0` bridges to `Bool` too. Foundation reports JSON booleans as a boolean NSNumber subclass
    /// (`__NSCFBoolean`, `_NSCFBoolean`…).
    public static func isBoolean(_ value: Any?) -> Bool {
        guard let value, value is NSNumber else { return false }
        return value is Bool && String(describing: type(of: value)).contains("Bool")
    }
}
