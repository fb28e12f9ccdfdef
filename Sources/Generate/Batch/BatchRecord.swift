import Foundation
import GRDB

/// One row of `llm_batches`: a submission as the manifest knows it.
public struct BatchRecord: Sendable, Equatable {
    public var id: Int64
    /// The provider's id (`batch_…`), once the batch was created.
    public var batchID: String?
    public var model: String
    public var endpoint: String
    public var inputFileID: String?
    public var outputFileID: String?
    public var errorFileID: String?
    public var requestCount: Int
    public var inputBytes: Int
    public var completed: Int
    public var failed: Int
    /// `staged`, `uploaded`, then the provider's status; `abandoned` for a staged row a killed process never uploaded.
    public var status: String
    public var polls: Int
    public var errors: String?
    public var createdAt: Double
    public var updatedAt: Double
    /// When its results were merged into `llm_cache`; nil while in flight.
    public var mergedAt: Double?

    static let columns = """
        id, batch_id, model, endpoint, input_file_id, output_file_id, error_file_id, request_count, input_bytes, completed,
        failed, status, polls, errors, created_at, updated_at, merged_at
        """

    init(row: Row) {
        id = row["id"]
        batchID = row["batch_id"]
        model = row["model"]
        endpoint = row["endpoint"]
        inputFileID = row["input_file_id"]
        outputFileID = row["output_file_id"]
        errorFileID = row["error_file_id"]
        requestCount = row["request_count"]
        inputBytes = row["input_bytes"]
        completed = row["completed"]
        failed = row["failed"]
        status = row["status"]
        polls = row["polls"]
        errors = row["errors"]
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
        mergedAt = row["merged_at"]
    }

    public var inFlight: Bool { mergedAt == nil }

    /// The row as `dsbuild batch status --json` shows it (`requests`: its requests per state).
    public func json(requests: [String: Int]) -> [String: Any] {
        var object: [String: Any] = [
            "row": id, "batch_id": batchID ?? NSNull(), "model": model, "endpoint": endpoint, "status": status,
            "input_file_id": inputFileID ?? NSNull(), "output_file_id": outputFileID ?? NSNull(),
            "error_file_id": errorFileID ?? NSNull(), "request_count": requestCount, "input_bytes": inputBytes,
            "completed": completed, "failed": failed, "polls": polls, "in_flight": inFlight, "requests": requests,
            "created_at": createdAt, "updated_at": updatedAt, "merged_at": mergedAt ?? NSNull(),
        ]
        if let errors { object["errors"] = errors }
        return object
    }
}
