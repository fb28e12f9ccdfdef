import Dataset
import Foundation

/// One Batch API input file: JSONL, one request a line —
/// `{"body":{…},"custom_id":"<cache key>","method":"POST","url":"/v1/chat/completions"}` — all of one model, within
/// the provider's limits (`split`).
///
/// The `body` is spliced in as the exact bytes the online client would send (`ChatRequestBody`), not re-encoded, so
/// the `custom_id` (the sha256 of those bytes) is the `llm_cache` key the online path looks up.
public struct BatchInputFile: Sendable, Equatable {
    /// The endpoint every line names (`url`), and the batch's `endpoint`.
    public static let endpoint = "/v1/chat/completions"

    public var model: String
    /// The requests' cache keys, in line order.
    public var keys: [String]
    public var data: Data

    /// One line (with its newline) for `request`.
    public static func line(for request: QueuedRequest) -> Data {
        var line = Data(#"{"body":"#.utf8)
        line.append(request.body)
        line.append(contentsOf: Data(#","custom_id":"\#(request.key)","method":"POST","url":"\#(endpoint)"}"#.utf8))
        line.append(0x0A)
        return line
    }

    /// The requests as input files: grouped by model (in order of first appearance), each group cut into files of at
    /// most `maxRequests` lines and `maxBytes` bytes (a single line larger than `maxBytes` is refused, naming it).
    /// Duplicate keys are written once.
    public static func split(_ requests: [QueuedRequest], maxRequests: Int, maxBytes: Int) throws(BatchError) -> [BatchInputFile] {
        var models: [String] = []
        var byModel: [String: [QueuedRequest]] = [:]
        var seen = Set<String>()
        for request in requests where seen.insert(request.key).inserted {
            if byModel[request.model] == nil { models.append(request.model) }
            byModel[request.model, default: []].append(request)
        }
        var files: [BatchInputFile] = []
        for model in models {
            var current = BatchInputFile(model: model, keys: [], data: Data())
            for request in byModel[model] ?? [] {
                let line = line(for: request)
                if line.count > maxBytes {
                    throw BatchError(.requestTooLarge, "request \(request.key.prefix(12)) (\(request.purpose), model \(model)) is \(line.count) bytes as a batch line, more than llm.batch_max_bytes (\(maxBytes)); raise the limit or send it online (without --batch)")
                }
                if !current.keys.isEmpty && (current.keys.count >= maxRequests || current.data.count + line.count > maxBytes) {
                    files.append(current)
                    current = BatchInputFile(model: model, keys: [], data: Data())
                }
                current.keys.append(request.key)
                current.data.append(line)
            }
            if !current.keys.isEmpty { files.append(current) }
        }
        return files
    }
}
