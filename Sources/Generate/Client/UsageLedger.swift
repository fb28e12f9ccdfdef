import Dataset
import Foundation
import Synchronization

/// Prices per million tokens for one model (recipe `llm.prices.<model>`).
public struct ModelPrice: Sendable, Equatable {
    /// The key of `OpenAIClientConfiguration.prices` that prices every model without its own entry.
    public static let anyModel = "*"
    public var inputPerMillion: Double
    public var outputPerMillion: Double
    public var cachedInputPerMillion: Double?

    public init(inputPerMillion: Double, outputPerMillion: Double, cachedInputPerMillion: Double? = nil) {
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
        self.cachedInputPerMillion = cachedInputPerMillion
    }

    public func cost(_ usage: ChatUsage) -> Double {
        let cached = Double(usage.cachedTokens)
        let uncached = Double(max(usage.promptTokens - usage.cachedTokens, 0))
        return (uncached * inputPerMillion + cached * (cachedInputPerMillion ?? inputPerMillion)
                + Double(usage.completionTokens) * outputPerMillion) / 1_000_000
    }
}

/// What a client spent in one run: requests, cache hits, retries, tokens and (with prices) cost.
public final class UsageLedger: Sendable {
    public struct Totals: Sendable, Equatable {
        public var requests = 0
        public var cacheHits = 0
        public var retries = 0
        public var rateLimited = 0
        public var reasks = 0
        public var formatFallbacks = 0
        public var promptTokens = 0
        public var completionTokens = 0
        public var cachedTokens = 0
        /// Cost of the requests actually made (cache hits cost nothing); nil without a price for the model.
        public var cost: Double?

        public var json: [String: Any] {
            var object: [String: Any] = ["requests": requests, "cache_hits": cacheHits, "retries": retries,
                                         "rate_limited": rateLimited, "reasks": reasks,
                                         "format_fallbacks": formatFallbacks, "prompt_tokens": promptTokens,
                                         "completion_tokens": completionTokens, "cached_tokens": cachedTokens]
            if let cost { object["cost_usd"] = cost }
            return object
        }
    }

    private let state = Mutex(Totals())
    private let prices: [String: ModelPrice]

    public init(prices: [String: ModelPrice] = [:]) {
        self.prices = prices
    }

    public var totals: Totals { state.withLock { $0 } }

    func update(_ body: (inout Totals) -> Void) { state.withLock { body(&$0) } }

    func charge(model: String, usage: ChatUsage) {
        let price = prices[model] ?? prices[ModelPrice.anyModel]
        state.withLock { totals in
            totals.promptTokens += usage.promptTokens
            totals.completionTokens += usage.completionTokens
            totals.cachedTokens += usage.cachedTokens
            if let price { totals.cost = (totals.cost ?? 0) + price.cost(usage) }
        }
    }
}
