import Dataset
import Foundation

/// Reads a finished batch's output and error files (JSONL, in no particular order) into one outcome per request:
/// a 200 whose body is a chat completion is `succeeded` (the body stored as the online path stores a reply, with
/// registered secrets masked); an error line is `expired` for `batch_expired`, else `failed` with its message. A
/// request in neither file takes the batch's fate: `expired`, `cancelled`, or `failed` (a batch that failed
/// validation, with its errors; a completed batch that lost it).
public enum BatchResults {
    /// `unavailable`: why a result file of the batch could not be had; a request without a result then failed with it.
    /// `maxLineBytes`: a line larger than this (`llm.max_reply_bytes`) is an error for its request.
    public static func outcomes(keys: [String], output: Data?, errors: Data?, batch: BatchObject,
                                unavailable: String? = nil, maxLineBytes: Int = .max) -> [String: BatchStore.Outcome] {
        let wanted = Set(keys)
        var outcomes: [String: BatchStore.Outcome] = [:]
        for data in [output, errors].compactMap({ $0 }) {
            for line in data.split(separator: 0x0A) where !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                      let key = object["custom_id"] as? String, wanted.contains(key) else { continue }
                let outcome = line.count > maxLineBytes
                    ? BatchStore.Outcome(state: .failed, error: "the result line is \(line.count) bytes, more than llm.max_reply_bytes (\(maxLineBytes))")
                    : outcome(of: object)
                // A success wins over an error line for the same request (never the other way round); of several
                // success lines for one custom_id the first in file order (output file first) is kept, so a merge
                // is deterministic.
                if outcomes[key]?.state != .succeeded { outcomes[key] = outcome }
            }
        }
        let fate: BatchStore.Outcome
        switch batch.status {
        case "expired": fate = .init(state: .expired, error: "batch_expired: the batch's 24h window passed before the request ran")
        case "cancelled", "cancelling": fate = .init(state: .cancelled, error: "the batch was cancelled before the request ran")
        case "failed": fate = .init(state: .failed, error: "the batch failed: \(batch.errors.joined(separator: "; ").prefix(300))")
        default: fate = .init(state: .failed, error: "batch \(batch.id) ended \(batch.status) without a result for the request")
        }
        let missing = unavailable.map { BatchStore.Outcome(state: .failed, error: $0) } ?? fate
        for key in keys where outcomes[key] == nil { outcomes[key] = missing }
        return outcomes
    }

    /// One line of an output or error file.
    static func outcome(of line: [String: Any]) -> BatchStore.Outcome {
        let response = line["response"] as? [String: Any]
        let status = response?["status_code"] as? Int
        if status == 200, let body = response?["body"],
           let data = try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes]) {
            if let problem = OpenAIClient.completionProblem(data) {
                return .init(state: .failed, error: "HTTP 200 that is not a chat completion (\(problem))")
            }
            let text = SecretRedactor.redactRegisteredSecrets(String(decoding: data, as: UTF8.self))
            // A reply without a usable count (`usage(in:)` nil) is stored at the request's worst case by the driver.
            let reported = OpenAIClient.usage(in: data)
            var outcome = BatchStore.Outcome(state: .succeeded, response: text, usage: reported ?? ChatUsage())
            outcome.usageReported = reported != nil
            return outcome
        }
        let error = line["error"] as? [String: Any]
            ?? (response?["body"] as? [String: Any])?["error"] as? [String: Any]
        let code = error?["code"] as? String ?? status.map { "http_\($0)" } ?? "error"
        let message = error?["message"] as? String ?? ""
        let state: BatchStore.RequestState = code == "batch_expired" ? .expired : .failed
        return .init(state: state, error: "\(code): \(message)")
    }
}
