import Yams

/// Checks a YAML node tree against a `RecipeType`, producing a `RecipeValue` or the first error.
struct RecipeValidator {
    let file: String

    /// Keys that would hold a secret: the recipe may name the environment variable, never the value.
    static let secretKeys: Set<String> = ["api_key", "apikey", "token", "secret", "password", "openai_api_key"]

    func validate(_ node: Node, as type: RecipeType, path: [String]) throws(RecipeError) -> RecipeValue {
        let line = node.mark?.line ?? 0
        let key = path.joined(separator: ".")
        if case .scalar(let scalar) = node, scalar.tag.description == Tag.Name.null.rawValue || (scalar.string == "~" || (scalar.string.isEmpty && scalar.style == .plain)) {
            return .null(line: line)
        }
        switch type {
        case .string:
            guard case .scalar(let scalar) = node else { throw wrong(key, line, type) }
            return .string(scalar.string, line: line)
        case .int:
            guard let i = node.int else { throw wrong(key, line, type) }
            return .int(i, line: line)
        case .number:
            if let i = node.int { return .int(i, line: line) }
            guard let d = node.float else { throw wrong(key, line, type) }
            // .inf and .nan pass or dodge every range rule; no setting means them.
            guard d.isFinite else {
                throw RecipeError(.badValue, file: file, line: line, key: key, message: "must be a finite number, not \(d)")
            }
            return .number(d, line: line)
        case .bool:
            guard let b = node.bool else { throw wrong(key, line, type) }
            return .bool(b, line: line)
        case .choice(let values):
            guard case .scalar(let scalar) = node, values.contains(scalar.string) else {
                throw RecipeError(.badValue, file: file, line: line, key: key,
                                  message: "expected \(type.label), got \(describe(node))")
            }
            return .string(scalar.string, line: line)
        case .list(let element):
            if case .sequence(let sequence) = node {
                var items: [RecipeValue] = []
                for (index, item) in sequence.enumerated() {
                    items.append(try validate(item, as: element, path: path + ["\(index)"]))
                }
                return .list(items, line: line)
            }
            // A single scalar where a list is expected is read as a comma list (`jpeg, png`), so every list key
            // reads a string the same way.
            if case .scalar(let scalar) = node {
                let parts = scalar.string.split(separator: ",", omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                var items: [RecipeValue] = []
                for (index, part) in parts.enumerated() {
                    var piece = scalar
                    piece.string = part
                    items.append(try validate(.scalar(piece), as: element, path: parts.count > 1 ? path + ["\(index)"] : path))
                }
                return .list(items, line: line)
            }
            throw wrong(key, line, type)
        case .map(let fields):
            return try validateMap(node, fields: fields, extra: nil, path: path, line: line, type: type)
        case .mapWithExtra(let fields, let extra):
            return try validateMap(node, fields: fields, extra: extra, path: path, line: line, type: type)
        case .dictionary(let valueType):
            return try validateMap(node, fields: [:], extra: valueType, path: path, line: line, type: type)
        case .checked(let inner, let rule):
            let value = try validate(node, as: inner, path: path)
            if let problem = rule.problem(value) {
                throw RecipeError(.badValue, file: file, line: line, key: key, message: problem)
            }
            return value
        case .oneOf(let types):
            for candidate in types {
                if let value = try? validate(node, as: candidate, path: path) { return value }
            }
            throw wrong(key, line, type)
        }
    }

    private func validateMap(_ node: Node, fields: [String: RecipeType], extra: RecipeType?, path: [String],
                             line: Int, type: RecipeType) throws(RecipeError) -> RecipeValue {
        guard case .mapping(let mapping) = node else { throw wrong(path.joined(separator: "."), line, type) }
        var items: [(key: String, value: RecipeValue)] = []
        for (keyNode, valueNode) in mapping {
            let name = keyNode.string ?? ""
            let childPath = path + [name]
            let childKey = childPath.joined(separator: ".")
            let keyLine = keyNode.mark?.line ?? line
            if Self.secretKeys.contains(name.lowercased()) {
                throw RecipeError(.secretInRecipe, file: file, line: keyLine, key: childKey,
                                  message: "secrets never go in a recipe; set the environment variable instead (a recipe may name it with `api_key_env`)")
            }
            let childType: RecipeType
            if let known = fields[name] {
                childType = known
            } else if let extra {
                childType = extra
            } else {
                let known = fields.keys.sorted().joined(separator: ", ")
                throw RecipeError(.unknownKey, file: file, line: keyLine, key: childKey,
                                  message: "unknown key (known here: \(known))")
            }
            // A credential by shape (userinfo in a URL, `key=…`) or a registered secret's value, in a key or any
            // string inside the value: the recipe is copied into the workspace and into every shard index.
            if SecretRedactor.redact(name) != name {
                throw RecipeError(.secretInRecipe, file: file, line: keyLine, key: SecretRedactor.redact(childKey),
                                  message: "a key holds a credential; secrets never go in a recipe")
            }
            let value = try validate(valueNode, as: childType, path: childPath)
            if let (text, valueLine) = Self.firstCredential(in: value) {
                throw RecipeError(.secretInRecipe, file: file, line: valueLine, key: childKey,
                                  message: "holds a credential (\(SecretRedactor.redact(text))); secrets never go in a recipe: put the endpoint with its credentials in the environment (OPENAI_BASE_URL / OPENAI_API_KEY, or the variables `base_url_env` / `api_key_env` name)")
            }
            items.append((name, value))
        }
        return .map(items, line: line)
    }

    /// The first string in `value` (a scalar, a list item, at any depth) that the redactor would change.
    static func firstCredential(in value: RecipeValue) -> (String, Int)? {
        switch value {
        case .string(let text, let line): return SecretRedactor.redact(text) != text ? (text, line) : nil
        case .list(let items, _): return items.lazy.compactMap(firstCredential).first
        default: return nil  // mappings are checked key by key as they are validated
        }
    }

    private func wrong(_ key: String, _ line: Int, _ type: RecipeType) -> RecipeError {
        RecipeError(.wrongType, file: file, line: line, key: key, message: "expected \(type.label)")
    }

    private func describe(_ node: Node) -> String {
        if let s = node.string { return "`\(s)`" }
        return "a \(node.isMapping ? "mapping" : "list")"
    }
}

private extension Node {
    var isMapping: Bool { if case .mapping = self { return true } else { return false } }
}
