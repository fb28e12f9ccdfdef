import Dataset
import Foundation
import GRDB

/// `llm_batches` and `llm_batch_requests` (migration `v10-llm-batches`): every submission is written before its
/// file is uploaded and updated at each step, so a killed process finds its batches and resumes them. The
/// results of a batch are merged into `llm_cache` and its requests' states set in one transaction.
public struct BatchStore: Sendable {
    /// What became of one request of a batch.
    public enum RequestState: String, Sendable, CaseIterable {
        /// In the batch, no result yet.
        case submitted
        /// Answered: the completion is in `llm_cache`.
        case succeeded
        /// An error line (or the whole batch failed): submitted again, at most `llm.batch_max_attempts` times.
        case failed
        /// The batch's window passed before it ran (`batch_expired`): submitted again, counted as an attempt.
        case expired
        /// The batch was cancelled (or abandoned before upload) before it ran: pending again.
        case cancelled
    }

    /// One request's result, as the merge decided it.
    public struct Outcome: Sendable, Equatable {
        public var state: RequestState
        /// The completion to store (succeeded only), already redacted.
        public var response: String?
        public var usage: ChatUsage
        public var error: String?
        /// dsbuild's approximation of the prompt, kept beside a real count only (`TokenCalibration`); nil when the
        /// reply had no usable usage (then `usage` is the request's worst case).
        public var estimatedPromptTokens: Int?
        /// False when the reply had no usable `usage`: the driver stores the request's worst case instead.
        public var usageReported = true

        public init(state: RequestState, response: String? = nil, usage: ChatUsage = ChatUsage(), error: String? = nil,
                    estimatedPromptTokens: Int? = nil) {
            self.state = state
            self.response = response
            self.usage = usage
            self.error = error
            self.estimatedPromptTokens = estimatedPromptTokens
        }
    }

    public let manifest: Manifest

    public init(manifest: Manifest) {
        self.manifest = manifest
    }

    /// Writes a batch row (`staged`) and its requests (`submitted`) before anything is uploaded.
    public func stage(_ file: BatchInputFile, purposes: [String: String]) async throws -> Int64 {
        try await manifest.asyncWrite { db in
            let now = Date().timeIntervalSince1970
            try db.execute(sql: """
                INSERT INTO llm_batches (model, endpoint, request_count, input_bytes, status, created_at, updated_at)
                VALUES (?, ?, ?, ?, 'staged', ?, ?)
                """, arguments: [file.model, BatchInputFile.endpoint, file.keys.count, file.data.count, now, now])
            let row = db.lastInsertedRowID
            for key in file.keys {
                try db.execute(sql: "INSERT INTO llm_batch_requests (custom_id, batch, purpose, state) VALUES (?, ?, ?, 'submitted')",
                               arguments: [key, row, purposes[key]])
            }
            return row
        }
    }

    public func setUploaded(_ row: Int64, fileID: String) async throws {
        try await manifest.asyncWrite { db in
            try db.execute(sql: "UPDATE llm_batches SET input_file_id = ?, status = 'uploaded', updated_at = ? WHERE id = ?",
                           arguments: [fileID, Date().timeIntervalSince1970, row])
        }
    }

    /// Records what the provider says of the batch (creation or a poll; `polled` counts a poll).
    public func update(_ row: Int64, with batch: BatchObject, polled: Bool) async throws {
        try await manifest.asyncWrite { db in
            try db.execute(sql: """
                UPDATE llm_batches SET batch_id = ?, status = ?, input_file_id = COALESCE(?, input_file_id),
                    output_file_id = ?, error_file_id = ?, completed = ?, failed = ?, polls = polls + ?,
                    errors = ?, updated_at = ? WHERE id = ?
                """, arguments: [batch.id, batch.status, batch.inputFileID, batch.outputFileID, batch.errorFileID,
                                 batch.completed, batch.failed, polled ? 1 : 0,
                                 batch.errors.isEmpty ? nil : SecretRedactor.redact(batch.errors.joined(separator: "\n")) as String,
                                 Date().timeIntervalSince1970, row])
        }
    }

    /// Stores the succeeded completions in `llm_cache`, sets every request's state and closes the batch, in one
    /// transaction: a kill before it leaves the batch in flight (merged again on resume), after it nothing to do.
    public func merge(_ row: Int64, model: String, outcomes: [String: Outcome], status: String? = nil) async throws {
        try await manifest.asyncWrite { db in
            let purposes = Dictionary(try Row.fetchAll(db, sql: "SELECT custom_id, purpose FROM llm_batch_requests WHERE batch = ?",
                                                       arguments: [row]).map { ($0[0] as String, ($0[1] as String?) ?? "batch") },
                                      uniquingKeysWith: { a, _ in a })
            let stagedAt = try Double.fetchOne(db, sql: "SELECT created_at FROM llm_batches WHERE id = ?", arguments: [row]) ?? 0
            for (key, outcome) in outcomes where purposes[key] != nil {
                if outcome.state == .succeeded, let response = outcome.response {
                    // First answer wins: an answer stored after this batch was staged (online, by a process that ignored
                    // the batch) stays, so a row a stage recorded from never changes under it.
                    try LLMCache.storeBatchAnswer(key: key, model: model, purpose: purposes[key] ?? "batch", response: response,
                                                  usage: outcome.usage, estimatedPromptTokens: outcome.estimatedPromptTokens,
                                                  stagedAt: stagedAt, in: db)
                }
                try db.execute(sql: "UPDATE llm_batch_requests SET state = ?, error = ? WHERE batch = ? AND custom_id = ?",
                               arguments: [outcome.state.rawValue, outcome.error.map { SecretRedactor.redact($0) as String }, row, key])
            }
            let now = Date().timeIntervalSince1970
            try db.execute(sql: "UPDATE llm_batches SET merged_at = ?, updated_at = ?, status = COALESCE(?, status) WHERE id = ?",
                           arguments: [now, now, status, row])
        }
    }

    /// Batches not merged yet (in flight, or staged by a process that was killed), oldest first.
    public func inFlight() async throws -> [BatchRecord] {
        try await manifest.asyncRead { db in
            try Row.fetchAll(db, sql: "SELECT \(BatchRecord.columns) FROM llm_batches WHERE merged_at IS NULL ORDER BY id")
                .map(BatchRecord.init(row:))
        }
    }

    /// Every batch, oldest first, with its requests counted per state.
    public func all() async throws -> [(BatchRecord, [String: Int])] {
        try await manifest.asyncRead { db in
            let rows = try Row.fetchAll(db, sql: "SELECT \(BatchRecord.columns) FROM llm_batches ORDER BY id").map(BatchRecord.init(row:))
            var states: [Int64: [String: Int]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT batch, state, COUNT(*) FROM llm_batch_requests GROUP BY batch, state") {
                states[row[0], default: [:]][row[1]] = row[2]
            }
            return rows.map { ($0, states[$0.id] ?? [:]) }
        }
    }

    /// The cache keys of a batch's requests.
    public func keys(of row: Int64) async throws -> [String] {
        try await manifest.asyncRead { db in
            try String.fetchAll(db, sql: "SELECT custom_id FROM llm_batch_requests WHERE batch = ? ORDER BY custom_id", arguments: [row])
        }
    }

    /// Keys whose batches failed or expired them at least `attempts` times, with the last error: their items fail instead of
    /// being submitted again.
    /// `since`: only batches staged at or after that time count (a command's own: exhaustion holds for the command
    /// that reached it, and a new command may try again).
    public func exhausted(attempts: Int, since: Double = 0) async throws -> [String: String] {
        try await manifest.asyncRead { db in
            var result: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT custom_id, COUNT(*), MAX(error) FROM llm_batch_requests WHERE state IN ('failed', 'expired')
                 AND batch IN (SELECT id FROM llm_batches WHERE created_at >= ?)
                 AND custom_id NOT IN (SELECT custom_id FROM llm_batch_requests WHERE state IN ('succeeded', 'submitted'))
                 GROUP BY custom_id HAVING COUNT(*) >= ?
                """, arguments: [since, attempts]) {
                result[row[0]] = (row[2] as String?) ?? "failed"
            }
            return result
        }
    }
}
