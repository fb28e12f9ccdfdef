/// A validated recipe value with the line it came from.
public indirect enum RecipeValue: Sendable, Equatable {
    case string(String, line: Int)
    case int(Int, line: Int)
    case number(Double, line: Int)
    case bool(Bool, line: Int)
    case list([RecipeValue], line: Int)
    case map([(key: String, value: RecipeValue)], line: Int)
    case null(line: Int)

    public static func == (lhs: RecipeValue, rhs: RecipeValue) -> Bool {
        lhs.plain == rhs.plain
    }

    public var line: Int {
        switch self {
        case .string(_, let l), .int(_, let l), .number(_, let l), .bool(_, let l), .list(_, let l), .map(_, let l),
             .null(let l):
            return l
        }
    }

    public var stringValue: String? {
        switch self {
        case .string(let s, _): return s
        case .int(let i, _): return String(i)
        case .number(let d, _): return String(d)
        case .bool(let b, _): return String(b)
        default: return nil
        }
    }

    public var intValue: Int? {
        if case .int(let i, _) = self { return i }
        if case .number(let d, _) = self, d == d.rounded() { return Int(d) }
        return nil
    }

    public var doubleValue: Double? {
        if case .number(let d, _) = self { return d }
        if case .int(let i, _) = self { return Double(i) }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b, _) = self { return b }
        return nil
    }

    public var listValue: [RecipeValue]? {
        if case .list(let items, _) = self { return items }
        return nil
    }

    public var entries: [(key: String, value: RecipeValue)]? {
        if case .map(let items, _) = self { return items }
        return nil
    }

    public subscript(key: String) -> RecipeValue? {
        entries?.first(where: { $0.key == key })?.value
    }

    /// The value as plain JSON-compatible Swift values (for storing in run records and shard indexes).
    public var plain: AnyPlain {
        switch self {
        case .string(let s, _): return .string(s)
        case .int(let i, _): return .int(i)
        case .number(let d, _): return .double(d)
        case .bool(let b, _): return .bool(b)
        case .null: return .null
        case .list(let items, _): return .list(items.map(\.plain))
        case .map(let items, _): return .map(items.map { ($0.key, $0.value.plain) })
        }
    }
}

/// A JSON-compatible value with deterministic key order, used to record settings.
public indirect enum AnyPlain: Sendable, Equatable, Encodable {
    case string(String), int(Int), double(Double), bool(Bool), null
    case list([AnyPlain])
    case map([(String, AnyPlain)])

    public static func == (lhs: AnyPlain, rhs: AnyPlain) -> Bool {
        JSONText.encode(lhs) == JSONText.encode(rhs)
    }

    /// The value without null members of mappings (recursively); a mapping left empty is dropped too.
    public var droppingNulls: AnyPlain {
        guard case .map(let entries) = self else { return self }
        return .map(entries.compactMap { key, value in
            let kept = value.droppingNulls
            if case .null = kept { return nil }
            if case .map(let inner) = kept, inner.isEmpty { return nil }
            return (key, kept)
        })
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .string(let s): var c = encoder.singleValueContainer(); try c.encode(s)
        case .int(let i): var c = encoder.singleValueContainer(); try c.encode(i)
        case .double(let d): var c = encoder.singleValueContainer(); try c.encode(d)
        case .bool(let b): var c = encoder.singleValueContainer(); try c.encode(b)
        case .null: var c = encoder.singleValueContainer(); try c.encodeNil()
        case .list(let items):
            var c = encoder.unkeyedContainer()
            for item in items { try c.encode(item) }
        case .map(let items):
            var c = encoder.container(keyedBy: Key.self)
            for (k, v) in items { try c.encode(v, forKey: Key(k)) }
        }
    }
}
