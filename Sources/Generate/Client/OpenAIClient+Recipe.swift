import Dataset
import Foundation
import Logging

extension OpenAIClientConfiguration {
    /// The configuration from the recipe's `llm:` section and the environment. The endpoint comes from
    /// `llm.base_url`, else the variable `llm.base_url_env` names (default `OPENAI_BASE_URL`); the key only ever from
    /// the variable `llm.api_key_env` names (default `OPENAI_API_KEY`): recipes never hold secrets.
    public static func from(recipe: Recipe, environment: [String: String]) -> OpenAIClientConfiguration {
        var configuration = fromEnvironment(environment,
                                            baseURLVariable: recipe.string("llm.base_url_env") ?? "OPENAI_BASE_URL",
                                            apiKeyVariable: recipe.string("llm.api_key_env") ?? "OPENAI_API_KEY")
        if let base = recipe.string("llm.base_url").flatMap(URL.init(string:)) { configuration.baseURL = base }
        if let detail = recipe.string("llm.image_detail") { configuration.imageDetail = detail }
        if let timeout = recipe.double("llm.timeout_seconds") { configuration.timeout = timeout }
        if let attempts = recipe.int("llm.max_attempts") { configuration.maxAttempts = attempts }
        if let wait = recipe.double("llm.max_wait_seconds") { configuration.maxWaitSeconds = wait }
        if let bytes = recipe.int("llm.max_reply_bytes") { configuration.maxReplyBytes = bytes }
        if let mode = recipe.string("llm.json_mode").flatMap(WireFormat.init(name:)) { configuration.initialWireFormat = mode }
        configuration.limits = RequestPacer.Limits(concurrency: recipe.int("llm.concurrency") ?? 8,
                                                   requestsPerMinute: recipe.double("llm.requests_per_minute"),
                                                   tokensPerMinute: recipe.double("llm.tokens_per_minute"))
        if let model = recipe.string("llm.model") ?? recipe.string("describe.model"),
           let prompt = recipe.double("llm.price_per_million.prompt"),
           let completion = recipe.double("llm.price_per_million.completion") {
            configuration.prices[model] = ModelPrice(inputPerMillion: prompt, outputPerMillion: completion,
                                                     cachedInputPerMillion: recipe.double("llm.price_per_million.cached_prompt"))
        }
        return configuration
    }
}
