import Foundation
import GRDB

/// The end-of-run table of `dsbuild run`: per stage, what is done, what was dropped and what failed (by reason),
/// tokens and cost, and the time its commands took in this run.
public struct RunSummary: Sendable {
    public struct StageRow: Sendable {
        public var stage: String
        public var status: String
        public var done: Int
        public var dropped: [String: Int]
        public var failed: [String: Int]
        public var promptTokens: Int
        public var completionTokens: Int
        public var cost: Double?
        public var seconds: Double
    }

    public var rows: [StageRow]

    /// Computes the table from the manifest; `since` (seconds since 1970) bounds the time and tokens to this run.
    /// - Parameter shards: the shard folder the run wrote (its `shards.json` counts the samples).
    public static func compute(workspace: Workspace, recipe: Recipe, shards: URL, since: Double,
                               outcomes: [(stage: String, status: String)]) throws -> RunSummary {
        let status = try StatusReport.compute(workspace.manifest)
        let llm = LLMSettings(recipe: recipe)
        return try workspace.manifest.read { db in
            var seconds: [String: Double] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT command, SUM(COALESCE(finished_at, ?) - started_at) AS seconds FROM runs
                WHERE started_at >= ? GROUP BY command
                """, arguments: [Date().timeIntervalSince1970, since]) {
                seconds[Self.stage(ofRun: row["command"]), default: 0] += row["seconds"] as Double? ?? 0
            }
            // Tokens per stage, priced per model (`llm.prices`, else `price_per_million`); a stage with an unpriced
            // model shows no cost rather than a partial one.
            var tokens: [String: (Int, Int)] = [:]
            var costs: [String: Double?] = [:]
            // An answer a batch brought (its key among the succeeded batch requests) is priced at the batch share.
            for row in try Row.fetchAll(db, sql: """
                SELECT COALESCE(purpose, '') AS purpose, model, SUM(MAX(prompt_tokens, 0)) AS p, SUM(MAX(completion_tokens, 0)) AS c,
                       SUM(MAX(cached_tokens, 0)) AS cached,
                       key IN (SELECT custom_id FROM llm_batch_requests WHERE state = 'succeeded') AS batched
                FROM llm_cache WHERE created_at >= ? GROUP BY purpose, model, batched
                """, arguments: [since]) {
                let purpose: String = row["purpose"]
                let stage = purpose.hasPrefix("mcq") ? "mcq" : purpose.hasPrefix("eval") ? "eval"
                    : purpose.hasPrefix("watermark") || purpose.hasPrefix("relevance") ? "filter" : "describe"
                let (p, c, cached) = (row["p"] as Int? ?? 0, row["c"] as Int? ?? 0, row["cached"] as Int? ?? 0)
                let current = tokens[stage] ?? (0, 0)
                tokens[stage] = (current.0 + p, current.1 + c)
                let price = llm.price(of: row["model"])
                let share = (row["batched"] as Bool? ?? false) ? llm.batchPriceFactor : 1
                let cost = price.map { price in
                    (Double(max(p - cached, 0)) * price.prompt + Double(min(cached, p)) * (price.cachedPrompt ?? price.prompt)
                     + Double(c) * price.completion) / 1_000_000 * share
                }
                let sum: Double?? = costs[stage]
                costs[stage] = sum == nil ? cost : (sum!.flatMap { s in cost.map { s + $0 } })
            }
            let trainRow = try Row.fetchOne(db, sql: "SELECT status, steps FROM train_runs ORDER BY id DESC LIMIT 1")
            let evalCount = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM eval_results WHERE created_at >= ?", arguments: [since]) ?? 0
            let embedded = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT image_sha256) FROM image_embeddings") ?? 0
            var rows: [StageRow] = []
            for (stage, outcome) in outcomes {
                var row = StageRow(stage: stage, status: outcome, done: 0, dropped: [:], failed: [:], promptTokens: 0,
                              completionTokens: 0, cost: nil, seconds: seconds[stage] ?? 0)
                switch stage {
                case "collect": row.done = status.downloadsOK; row.failed = status.downloadsFailed
                case "embed": row.done = embedded
                case "filter": row.done = status.imagesKept; row.dropped = status.imagesDropped
                case "describe": row.done = status.descriptionsAccepted; row.dropped = status.descriptionsRejected
                case "mcq": row.done = status.questionsAccepted; row.dropped = status.questionsRejected
                case "shards": row.done = Self.shardSamples(in: shards)
                case "train": row.done = trainRow?["steps"] ?? 0
                case "eval": row.done = evalCount
                default: break
                }
                if let (p, c) = tokens[stage] {
                    row.promptTokens = p
                    row.completionTokens = c
                    row.cost = costs[stage] ?? nil
                }
                rows.append(row)
            }
            return RunSummary(rows: rows)
        }
    }

    /// The pipeline stage a `runs` row belongs to: collect's `search` and `download`, else the part of its
    /// command before the first dot (`mcq.type2` → `mcq`, `filter.duplicates` → `filter`).
    static func stage(ofRun command: String) -> String {
        if command == "search" || command == "download" { return "collect" }
        return String(command.prefix { $0 != "." })
    }

    /// Samples written to the shard folder, from its `shards.json`.
    static func shardSamples(in out: URL) -> Int {
        guard let data = try? Data(contentsOf: out.appendingPathComponent("shards.json")),
              let index = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let counts = index["counts"] as? [String: Any] else { return 0 }
        return (counts["text"] as? Int ?? 0) + (counts["paired"] as? Int ?? 0)
    }

    public var json: [String: Any] {
        ["stages": rows.map { row -> [String: Any] in
            var object: [String: Any] = ["stage": row.stage, "status": row.status, "done": row.done, "dropped": row.dropped,
                                         "failed": row.failed, "prompt_tokens": row.promptTokens,
                                         "completion_tokens": row.completionTokens, "seconds": row.seconds]
            if let cost = row.cost { object["cost"] = cost }
            return object
        }]
    }

    /// A fixed-width table for the terminal.
    public var table: String {
        func reasons(_ map: [String: Int]) -> String {
            map.isEmpty ? "-" : map.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        }
        var lines = ["stage     status    done  time     tokens in/out   cost     dropped / failed"]
        for row in rows {
            let tokens = row.promptTokens + row.completionTokens > 0 ? "\(row.promptTokens)/\(row.completionTokens)" : "-"
            let cost = row.cost.map { String(format: "$%.4f", $0) } ?? "-"
            // A value as wide as its column or wider still gets one space after it (`interrupted 0`, not `interrupted0`).
            let pad = { (s: String, n: Int) in s.padding(toLength: max(n, s.count + 1), withPad: " ", startingAt: 0) }
            var line = pad(row.stage, 10) + pad(row.status, 10) + pad(String(row.done), 6)
            line += pad(ProgressReporter.formatDuration(row.seconds), 9) + pad(tokens, 16) + pad(cost, 9)
            var detail: [String] = []
            if !row.dropped.isEmpty { detail.append("dropped: " + reasons(row.dropped)) }
            if !row.failed.isEmpty { detail.append("failed: " + reasons(row.failed)) }
            lines.append(line + (detail.isEmpty ? "-" : detail.joined(separator: "; ")))
        }
        return lines.joined(separator: "\n")
    }
}
