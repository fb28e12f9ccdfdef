import Dataset
import Foundation

/// `dsbuild estimate`'s answer: per stage, purpose and model, the requests a run would make now and their prompt,
/// image and completion tokens, priced by `llm.prices` / `llm.price_per_million` (at `llm.batch_price_factor` when
/// batching). A row is *rendered* when its requests were built by the stage's own code from the workspace (exact
/// count and bodies), *projected* when their input does not exist yet (Type 2 questions before the descriptions
/// they are written from) and count and size follow from the plan.
public struct CostEstimate: Sendable {
    public struct Row: Sendable, Equatable {
        public var stage: String
        public var purpose: String
        public var model: String
        public var requests = 0
        /// Calibrated prompt tokens, images included.
        public var promptTokens = 0.0
        /// The images' share of `promptTokens` (by `ImageTokenRule`, not calibrated).
        public var imageTokens = 0.0
        public var completionTokens = 0.0
        public var costUSD: Double?
        /// Where the completion size came from: `observed mean`, `max_tokens` or `default`.
        public var completionBasis = "max_tokens"
        /// The calibration applied to the prompt (`model purpose`, `model`, `all models`, `none`) and its factor.
        public var calibrationBasis = "none"
        public var calibrationFactor = 1.0
        public var projected = false

        public var totalTokens: Double { promptTokens + completionTokens }
    }

    public var rows: [Row] = []
    public var batch = false
    /// Lines that say what could not be estimated and why.
    public var notes: [String] = []

    public init(batch: Bool = false) {
        self.batch = batch
    }

    public var requests: Int { rows.reduce(0) { $0 + $1.requests } }
    public var promptTokens: Double { rows.reduce(0) { $0 + $1.promptTokens } }
    public var imageTokens: Double { rows.reduce(0) { $0 + $1.imageTokens } }
    public var completionTokens: Double { rows.reduce(0) { $0 + $1.completionTokens } }
    /// The total price; nil when any row with requests has no price.
    public var costUSD: Double? {
        rows.filter { $0.requests > 0 }.reduce(Optional(0.0)) { sum, row in sum.flatMap { s in row.costUSD.map { s + $0 } } }
    }

    public var json: [String: Any] {
        var object: [String: Any] = [
            "batch": batch, "requests": requests, "prompt_tokens": Int(promptTokens.rounded()),
            "image_tokens": Int(imageTokens.rounded()), "completion_tokens": Int(completionTokens.rounded()),
            "rows": rows.map { row -> [String: Any] in
                var entry: [String: Any] = [
                    "stage": row.stage, "purpose": row.purpose, "model": row.model, "requests": row.requests,
                    "prompt_tokens": Int(row.promptTokens.rounded()), "image_tokens": Int(row.imageTokens.rounded()),
                    "completion_tokens": Int(row.completionTokens.rounded()), "completion_basis": row.completionBasis,
                    "calibration": ["basis": row.calibrationBasis, "factor": row.calibrationFactor], "projected": row.projected,
                ]
                entry["cost_usd"] = row.costUSD ?? NSNull()
                return entry
            },
            "notes": notes,
        ]
        object["cost_usd"] = costUSD ?? NSNull()
        return object
    }

    /// The table `dsbuild estimate` prints.
    public var table: String {
        func cells(_ values: [String]) -> String {
            let widths = [9, 24, 18, 8, 11, 10, 11, 10]
            return zip(values, widths).enumerated().map { index, pair in
                let (value, width) = pair
                let padding = String(repeating: " ", count: max(width - value.count, 0))
                return index < 3 ? value + padding : padding + value
            }.joined(separator: " ")
        }
        func money(_ value: Double?) -> String { value.map { String(format: "%.4f", $0) } ?? "unpriced" }
        func count(_ value: Double) -> String { String(Int(value.rounded())) }
        var lines = [cells(["stage", "purpose", "model", "requests", "prompt", "images", "completion", "USD"])]
        for row in rows {
            lines.append(cells([row.stage, row.purpose + (row.projected ? "*" : ""), String(row.model.prefix(18)), String(row.requests),
                                count(row.promptTokens), count(row.imageTokens), count(row.completionTokens), money(row.costUSD)]))
        }
        lines.append(cells(["total", "", "", String(requests), count(promptTokens), count(imageTokens), count(completionTokens),
                            money(costUSD)]))
        if rows.contains(where: \.projected) { lines.append("* projected from the plan: its input does not exist yet") }
        if batch { lines.append("priced at the Batch API's share (llm.batch_price_factor)") }
        var seen = Set<String>()
        for row in rows where seen.insert("\(row.calibrationBasis)|\(row.completionBasis)|\(row.purpose)").inserted {
            lines.append("  \(row.purpose): prompt ×\(String(format: "%.3f", row.calibrationFactor)) (calibration: \(row.calibrationBasis)), completion from \(row.completionBasis)")
        }
        lines += notes.map { "note: \($0)" }
        return lines.joined(separator: "\n")
    }
}
