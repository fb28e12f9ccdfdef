import Dataset
import Foundation
import GRDB

/// How far `RequestTokens`' approximation is from the endpoint's real counts, learnt from the workspace's
/// `llm_cache` (each entry keeps both), and how long the model's answers run: per model and purpose, else per model,
/// else over the whole cache. Without entries the approximation is taken as it is (factor 1) and completions at the
/// request's `max_tokens`.
public struct TokenCalibration: Sendable {
    /// What the cache says for one model and purpose (or one model, or everything).
    public struct Entry: Sendable, Equatable {
        /// Entries with both an approximation and a real prompt count.
        public var samples = 0
        public var realPrompt = 0
        public var estimatedPrompt = 0
        /// Entries with a real completion count, and their mean.
        public var completions = 0
        public var completionTokens = 0

        /// Real prompt tokens per approximated one (1 without samples).
        public var factor: Double { samples > 0 && estimatedPrompt > 0 ? Double(realPrompt) / Double(estimatedPrompt) : 1 }
        public var meanCompletion: Double? { completions > 0 ? Double(completionTokens) / Double(completions) : nil }

        mutating func add(_ other: Entry) {
            samples += other.samples; realPrompt += other.realPrompt; estimatedPrompt += other.estimatedPrompt
            completions += other.completions; completionTokens += other.completionTokens
        }
    }

    /// Keyed by `model|purpose`.
    public private(set) var byPurpose: [String: Entry] = [:]
    public private(set) var byModel: [String: Entry] = [:]
    public private(set) var overall = Entry()

    public init() {}

    public static func load(from manifest: Manifest) throws -> TokenCalibration {
        try manifest.read { db in try load(db) }
    }

    public static func load(_ db: Database) throws -> TokenCalibration {
        var calibration = TokenCalibration()
        for row in try Row.fetchAll(db, sql: """
            SELECT model, COALESCE(purpose, ''),
                   SUM(CASE WHEN estimated_prompt_tokens > 0 AND prompt_tokens > 0 THEN 1 ELSE 0 END),
                   SUM(CASE WHEN estimated_prompt_tokens > 0 AND prompt_tokens > 0 THEN prompt_tokens ELSE 0 END),
                   SUM(CASE WHEN estimated_prompt_tokens > 0 AND prompt_tokens > 0 THEN estimated_prompt_tokens ELSE 0 END),
                   SUM(CASE WHEN completion_tokens > 0 THEN 1 ELSE 0 END),
                   SUM(CASE WHEN completion_tokens > 0 THEN completion_tokens ELSE 0 END)
            FROM llm_cache GROUP BY model, purpose
            """) {
            let entry = Entry(samples: row[2] ?? 0, realPrompt: row[3] ?? 0, estimatedPrompt: row[4] ?? 0,
                              completions: row[5] ?? 0, completionTokens: row[6] ?? 0)
            let model: String = row[0], purpose: String = row[1]
            calibration.byPurpose["\(model)|\(purpose)"] = entry
            calibration.byModel[model, default: Entry()].add(entry)
            calibration.overall.add(entry)
        }
        return calibration
    }

    /// The most specific entry with prompt samples for a model and purpose, and what it is ("model/purpose",
    /// "model", "all", or "none").
    public func promptEntry(model: String, purpose: String) -> (entry: Entry, basis: String) {
        if let entry = byPurpose["\(model)|\(purpose)"], entry.samples > 0 { return (entry, "\(model) \(purpose)") }
        if let entry = byModel[model], entry.samples > 0 { return (entry, model) }
        if overall.samples > 0 { return (overall, "all models") }
        return (Entry(), "none")
    }

    /// The mean completion the cache observed for a model and purpose (then the model), nil when it has none.
    public func meanCompletion(model: String, purpose: String) -> Double? {
        byPurpose["\(model)|\(purpose)"]?.meanCompletion ?? byModel[model]?.meanCompletion
    }
}
