import Dataset
import Foundation
import GRDB

/// The manifest's `llm_cache`: raw endpoint responses keyed by the sha256 of the full request body.
///
/// Every response the endpoint returns is stored here before the client parses or uses it, so a run killed after
/// the response arrived never pays for it again. Re-asks (with the validation error fed back) have their own
/// bodies and so their own entries: a rerun replays the same conversation from the cache.
public struct LLMCache: Sendable {
    public struct Entry: Sendable {
        public var response: String
        public var usage: ChatUsage
    }

    public let manifest: Manifest

    public init(manifest: Manifest) {
        self.manifest = manifest
    }

    public static func key(for body: Data) -> String {
        ContentHash.sha256Hex(body)
    }

    /// Looks up without counting hits (`dsbuild estimate`: it reads the workspace and changes nothing).
    public var readOnly = false

    /// The stored response for `key`, counting a hit (unless `readOnly`).
    public func lookup(_ key: String) async throws -> Entry? {
        if readOnly {
            return try await manifest.asyncRead { db -> Entry? in
                guard let row = try Row.fetchOne(db, sql: "SELECT response, prompt_tokens, completion_tokens, cached_tokens FROM llm_cache WHERE key = ?", arguments: [key]) else {
                    return nil
                }
                return Entry(response: row[0], usage: ChatUsage(promptTokens: row[1], completionTokens: row[2], cachedTokens: row[3]))
            }
        }
        return try await manifest.asyncWrite { db -> Entry? in
            guard let row = try Row.fetchOne(db, sql: "SELECT response, prompt_tokens, completion_tokens, cached_tokens FROM llm_cache WHERE key = ?", arguments: [key]) else {
                return nil
            }
            try db.execute(sql: "UPDATE llm_cache SET hits = hits + 1 WHERE key = ?", arguments: [key])
            return Entry(response: row[0], usage: ChatUsage(promptTokens: row[1], completionTokens: row[2], cachedTokens: row[3]))
        }
    }

    /// Stores a response; `estimatedPromptTokens` is dsbuild's approximation of the request's prompt (`RequestTokens`),
    /// kept beside the endpoint's real count for `TokenCalibration`.
    public func store(key: String, model: String, purpose: String, response: String, usage: ChatUsage,
                      estimatedPromptTokens: Int? = nil) async throws {
        // A reply that arrived is paid for: kept even when the task was cancelled meanwhile (a stage stopping, Ctrl-C),
        // where an async write would refuse to start.
        if Task.isCancelled {
            try manifest.write { db in
                try Self.store(key: key, model: model, purpose: purpose, response: response, usage: usage,
                               estimatedPromptTokens: estimatedPromptTokens, in: db)
            }
            return
        }
        try await manifest.asyncWrite { db in
            try Self.store(key: key, model: model, purpose: purpose, response: response, usage: usage,
                           estimatedPromptTokens: estimatedPromptTokens, in: db)
        }
    }

    /// The cache keys that batches in flight hold (`llm_batches` not merged yet), each with its batch (the provider's id,
    /// or `row N` before one was created): the online client must not send those, or the request is paid twice.
    public func keysHeldByBatches() async throws -> [String: String] {
        try await manifest.asyncRead { db in
            var held: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT r.custom_id, b.batch_id, b.id FROM llm_batches b JOIN llm_batch_requests r ON r.batch = b.id
                 WHERE b.merged_at IS NULL
                """) {
                held[row[0]] = (row[1] as String?) ?? "row \(row[2] as Int64)"
            }
            return held
        }
    }

    /// Stores a batch's answer unless `key` already has a usable answer written after the batch was staged
    /// (`stagedAt`): the first answer wins, so a row a stage already recorded from never changes under it. A row from
    /// before the batch (the batch was asked under `--refresh`) or one that is no chat completion is replaced.
    /// Returns false when the existing row was kept.
    @discardableResult
    static func storeBatchAnswer(key: String, model: String, purpose: String, response: String, usage: ChatUsage,
                                 estimatedPromptTokens: Int?, stagedAt: Double, in db: Database) throws -> Bool {
        if let row = try Row.fetchOne(db, sql: "SELECT response, created_at FROM llm_cache WHERE key = ?", arguments: [key]),
           (row[1] as Double) >= stagedAt, OpenAIClient.completionProblem(Data((row[0] as String).utf8)) == nil {
            return false
        }
        try store(key: key, model: model, purpose: purpose, response: response, usage: usage,
                  estimatedPromptTokens: estimatedPromptTokens, in: db)
        return true
    }

    /// Stores a response inside the caller's transaction (a batch's results are merged in one).
    static func store(key: String, model: String, purpose: String, response: String, usage: ChatUsage,
                      estimatedPromptTokens: Int? = nil, in db: Database) throws {
        try db.execute(sql: """
            INSERT INTO llm_cache (key, model, purpose, response, prompt_tokens, completion_tokens, cached_tokens, hits, created_at,
                                   estimated_prompt_tokens)
            VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?)
            ON CONFLICT(key) DO UPDATE SET response = excluded.response, prompt_tokens = excluded.prompt_tokens,
                completion_tokens = excluded.completion_tokens, cached_tokens = excluded.cached_tokens,
                created_at = excluded.created_at, estimated_prompt_tokens = excluded.estimated_prompt_tokens
            """, arguments: [key, model, purpose, response, usage.promptTokens, usage.completionTokens,
                             usage.cachedTokens, Date().timeIntervalSince1970, estimatedPromptTokens])
    }
}
