import Foundation

/// A Batch API batch object (`POST /v1/batches`, `GET /v1/batches/{id}`), reduced to what dsbuild keeps.
public struct BatchObject: Sendable, Equatable {
    public var id: String
    public var status: String
    public var inputFileID: String?
    public var outputFileID: String?
    public var errorFileID: String?
    public var total: Int
    public var completed: Int
    public var failed: Int
    /// `errors.data[].message` of a batch that failed validation, one line each.
    public var errors: [String]
    /// The input lines (1-based) `errors.data` names.
    public var errorLines: [Int]
    public var metadata: [String: String]
    /// `created_at` (Unix seconds), when the reply has it.
    public var createdAt: Double?

    /// Statuses after which the batch changes no more.
    public static let terminalStatuses: Set<String> = ["completed", "failed", "expired", "cancelled"]

    public var isTerminal: Bool { Self.terminalStatuses.contains(status) }

    /// Decodes a batch object; nil when `json` is not one (no `id` or `status`).
    public init?(json: Any) {
        guard let object = json as? [String: Any], let id = object["id"] as? String, let status = object["status"] as? String
        else { return nil }
        self.id = id
        self.status = status
        inputFileID = object["input_file_id"] as? String
        outputFileID = object["output_file_id"] as? String
        errorFileID = object["error_file_id"] as? String
        let counts = object["request_counts"] as? [String: Any] ?? [:]
        total = counts["total"] as? Int ?? 0
        completed = counts["completed"] as? Int ?? 0
        failed = counts["failed"] as? Int ?? 0
        let data = (object["errors"] as? [String: Any])?["data"] as? [[String: Any]] ?? []
        errorLines = data.compactMap { $0["line"] as? Int }
        errors = data.map { entry in
            let line = (entry["line"] as? Int).map { " (line \($0))" } ?? ""
            return "\(entry["code"] as? String ?? "error")\(line): \(entry["message"] as? String ?? "")"
        }
        metadata = (object["metadata"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String }
        createdAt = (object["created_at"] as? NSNumber)?.doubleValue
    }
}
