import Dataset
import Foundation
import Logging

extension OpenAIClientConfiguration {
    /// The configuration from the recipe's `llm:` section and the environment. The endpoint comes from
    /// `llm.base_url`, else the variable `llm.base_url_env` names (default `OPENAI_BASE_URL`); the key only ever from
    /// the variable `llm.api_key_env` names (default `OPENAI_API_KEY`): recipes never hold secrets.
    public static func from(recipe: Recipe, environment: [String: String]) -> OpenAIClientConfiguration {
        from(LLMSettings(recipe: recipe), environment: environment)
    }

    /// The configuration from `llm:` settings and the environment.
    public static func from(_ llm: LLMSettings, environment: [String: String]) -> OpenAIClientConfiguration {
        var configuration = fromEnvironment(environment, baseURLVariable: llm.baseURLVariable,
                                            apiKeyVariable: llm.apiKeyVariable)
        if let base = llm.baseURL.flatMap(URL.init(string:)) { configuration.baseURL = base }
        configuration.imageDetail = llm.imageDetail == .omit ? nil : llm.imageDetail.rawValue
        configuration.timeout = llm.timeoutSeconds
        configuration.maxAttempts = llm.maxAttempts
        configuration.maxWaitSeconds = llm.maxWaitSeconds
        configuration.maxReplyBytes = llm.maxReplyBytes
        configuration.initialWireFormat = WireFormat(name: llm.jsonMode.rawValue) ?? .jsonSchema
        configuration.resolve = (environment["DSBUILD_TEST_RESOLVE"] ?? "").split(separator: ",").map(String.init)
        configuration.limits = RequestPacer.Limits(concurrency: llm.concurrency,
                                                   requestsPerMinute: llm.requestsPerMinute,
                                                   tokensPerMinute: llm.tokensPerMinute)
        // `llm.prices` per model; `price_per_million` for every other model the endpoint serves.
        configuration.prices = LLMPricing(llm).modelPrices
        return configuration
    }
}
