import Dataset
import Foundation

/// Turns recorded request bodies (and planned requests that cannot be rendered yet) into `CostEstimate` rows:
/// prompt tokens by `RequestTokens` × the cache's calibration, completions by the observed mean for the model and
/// purpose (else the request's `max_tokens`), priced by `LLMPricing`.
public struct CostEstimator: Sendable {
    public let pricing: LLMPricing
    public let calibration: TokenCalibration
    public let batch: Bool
    /// Completion size for a request with no `max_tokens` and no observation.
    public static let defaultCompletion = 1024.0

    public init(settings: LLMSettings, calibration: TokenCalibration, batch: Bool) {
        pricing = LLMPricing(settings)
        self.calibration = calibration
        self.batch = batch
    }

    /// One row per purpose and model of the recorded requests of `stage`.
    public func rows(stage: String, recorded: [RequestRecorder.Recorded]) -> [CostEstimate.Row] {
        var rows: [String: CostEstimate.Row] = [:]
        var order: [String] = []
        for request in recorded {
            let tokens = RequestTokens.of(body: request.body)
            let key = "\(request.purpose)|\(tokens.model)"
            if rows[key] == nil {
                order.append(key)
                rows[key] = emptyRow(stage: stage, purpose: request.purpose, model: tokens.model)
            }
            add(prompt: tokens.prompt, image: Double(tokens.image), maxCompletion: tokens.maxCompletion.map(Double.init), count: 1,
                to: &rows[key]!)
        }
        return order.map { rows[$0]! }
    }

    /// A projected row: `count` requests of about `prompt` approximate tokens (`image` of them images) each.
    public func projected(stage: String, purpose: String, model: String, count: Int, prompt: Double, image: Double = 0,
                          maxCompletion: Double?) -> CostEstimate.Row {
        var row = emptyRow(stage: stage, purpose: purpose, model: model)
        row.projected = true
        add(prompt: prompt, image: image, maxCompletion: maxCompletion, count: count, to: &row)
        return row
    }

    /// The completion tokens a request of this model and purpose is expected to produce.
    public func expectedCompletion(model: String, purpose: String, maxCompletion: Double?) -> (Double, String) {
        if let mean = calibration.meanCompletion(model: model, purpose: purpose) { return (mean, "observed mean") }
        if let maxCompletion { return (maxCompletion, "max_tokens") }
        return (Self.defaultCompletion, "default")
    }

    private func emptyRow(stage: String, purpose: String, model: String) -> CostEstimate.Row {
        var row = CostEstimate.Row(stage: stage, purpose: purpose, model: model)
        let (entry, basis) = calibration.promptEntry(model: model, purpose: purpose)
        row.calibrationBasis = entry.samples > 0 ? "\(basis), \(entry.samples) cached" : basis
        row.calibrationFactor = entry.factor
        return row
    }

    private func add(prompt: Double, image: Double, maxCompletion: Double?, count: Int, to row: inout CostEstimate.Row) {
        let (completion, basis) = expectedCompletion(model: row.model, purpose: row.purpose, maxCompletion: maxCompletion)
        let n = Double(count)
        row.requests += count
        row.promptTokens += prompt * row.calibrationFactor * n
        row.imageTokens += image * n
        row.completionTokens += completion * n
        row.completionBasis = basis
        row.costUSD = pricing.cost(model: row.model, prompt: row.promptTokens, completion: row.completionTokens, batch: batch)
    }
}
