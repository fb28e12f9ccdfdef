import Dataset
import Foundation

/// How the reply's format is asked for on the wire: the client starts at `llm.json_mode` (default
/// `.jsonSchema`) and steps down when an endpoint refuses it.
public enum WireFormat: Int, Sendable, Comparable, CaseIterable {
    case jsonSchema, jsonObject, text

    public static func < (a: WireFormat, b: WireFormat) -> Bool { a.rawValue < b.rawValue }

    /// The recipe's name for it (`llm.json_mode`).
    public var name: String {
        switch self {
        case .jsonSchema: "json_schema"
        case .jsonObject: "json_object"
        case .text: "text"
        }
    }

    public init?(name: String) {
        guard let format = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = format
    }
}

/// Builds the JSON body of a chat-completions request. Keys are sorted so the same request always has the same
/// bytes, and so the same cache key.
public enum ChatRequestBody {
    /// The JSON object for `request` in `format`. Images become base64 data URLs with `detail` (omitted when nil,
    /// as vLLM wants).
    public static func object(for request: ChatRequest, format: WireFormat, detail: String?) -> [String: Any] {
        var body: [String: Any] = ["model": request.model]
        var messages: [[String: Any]] = []
        for message in request.messages {
            let onlyText = message.parts.allSatisfy { if case .text = $0 { true } else { false } }
            if onlyText {
                let text = message.parts.map { if case .text(let t) = $0 { t } else { "" } }.joined(separator: "\n")
                messages.append(["role": message.role.rawValue, "content": text])
                continue
            }
            var parts: [[String: Any]] = []
            for part in message.parts {
                switch part {
                case .text(let text):
                    parts.append(["type": "text", "text": text])
                case .image(let data, let mimeType):
                    var imageURL: [String: Any] = ["url": "data:\(mimeType);base64,\(data.base64EncodedString())"]
                    if let detail { imageURL["detail"] = detail }
                    parts.append(["type": "image_url", "image_url": imageURL])
                }
            }
            messages.append(["role": message.role.rawValue, "content": parts])
        }
        if let lead = request.lead, !lead.isEmpty { messages.append(["role": "assistant", "content": lead]) }
        body["messages"] = messages
        if !request.stop.isEmpty { body["stop"] = request.stop }
        if let temperature = request.temperature { body["temperature"] = temperature }
        if let maxTokens = request.maxTokens { body["max_tokens"] = maxTokens }
        if let seed = request.seed { body["seed"] = seed }
        if case .jsonSchema(let name, let schema) = request.responseFormat {
            switch format {
            case .jsonSchema:
                let schemaObject = (try? JSONSerialization.jsonObject(with: Data(schema.utf8))) ?? [String: Any]()
                // llama.cpp reads `response_format.json_schema.schema`; a flat `schema` is silently ignored.
                body["response_format"] = ["type": "json_schema",
                                           "json_schema": ["name": name, "schema": schemaObject, "strict": true]]
            case .jsonObject:
                body["response_format"] = ["type": "json_object"]
            case .text:
                break
            }
        }
        return body
    }

    /// The body's bytes (sorted keys, no escaped slashes).
    public static func data(_ object: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
    }

    /// The instruction added to the last user message when the endpoint cannot enforce the schema itself.
    public static func schemaInstruction(_ schema: String) -> String {
        "Reply with one JSON object only, no prose and no code fence, matching this JSON Schema:\n\(schema)"
    }
}
