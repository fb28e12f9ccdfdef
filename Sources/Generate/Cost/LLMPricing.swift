import Dataset

/// The price of tokens as the recipe sets it (`llm.prices`, `llm.price_per_million`, `llm.batch_price_factor`):
/// what the estimate, the budget and the usage reports charge.
public struct LLMPricing: Sendable {
    public let settings: LLMSettings

    public init(_ settings: LLMSettings) {
        self.settings = settings
    }

    /// USD for the tokens of `model`, nil when the model has no price. `batch`: at the Batch API's share.
    public func cost(model: String, prompt: Double, cachedPrompt: Double = 0, completion: Double, batch: Bool = false) -> Double? {
        guard let price = settings.price(of: model) else { return nil }
        let uncached = max(prompt - cachedPrompt, 0)
        let usd = (uncached * price.prompt + cachedPrompt * (price.cachedPrompt ?? price.prompt) + completion * price.completion) / 1_000_000
        return batch ? usd * settings.batchPriceFactor : usd
    }

    /// The client's price table: each model of `llm.prices`, and `price_per_million` for every other model.
    public var modelPrices: [String: ModelPrice] {
        var prices: [String: ModelPrice] = [:]
        if let prompt = settings.pricePrompt, let completion = settings.priceCompletion {
            prices[ModelPrice.anyModel] = ModelPrice(inputPerMillion: prompt, outputPerMillion: completion,
                                                     cachedInputPerMillion: settings.priceCachedPrompt)
        }
        for (model, price) in settings.prices {
            prices[model] = ModelPrice(inputPerMillion: price.prompt, outputPerMillion: price.completion,
                                       cachedInputPerMillion: price.cachedPrompt)
        }
        return prices
    }
}
