/// Renders the schema and a recipe's effective settings for people (`dsbuild recipe`).
public enum RecipeSchemaText {
    /// One block per key: the key, its shape and default, then what it does.
    public static func schema(_ entries: [RecipeSchemaEntry]) -> String {
        var lines: [String] = []
        var section: String?
        for entry in entries {
            let head = entry.key.split(separator: ".").first.map(String.init) ?? ""
            let current = entry.key.contains(".") ? head : ""
            if current != section {
                if section != nil { lines.append("") }
                lines.append(current.isEmpty ? "# top level" : "# \(current):")
                section = current
            }
            lines.append("\(entry.key)  (\(entry.type); default \(value(entry.defaultValue)))")
            lines.append("    \(entry.help)")
        }
        return lines.joined(separator: "\n")
    }

    /// Every key with the value a command would use: defaults, then what the recipe sets.
    public static func effective(_ sections: [(name: String, record: AnyPlain)]) -> String {
        var lines: [String] = []
        for (name, record) in sections {
            flatten(record, prefix: name, into: &lines)
        }
        return lines.joined(separator: "\n")
    }

    private static func flatten(_ value: AnyPlain, prefix: String, into lines: inout [String]) {
        if case .map(let entries) = value {
            for (key, child) in entries { flatten(child, prefix: prefix.isEmpty ? key : "\(prefix).\(key)", into: &lines) }
        } else {
            lines.append("\(prefix): \(Self.value(value))")
        }
    }

    static func value(_ value: AnyPlain) -> String {
        if case .null = value { return "unset" }
        return JSONText.encode(value)
    }
}
