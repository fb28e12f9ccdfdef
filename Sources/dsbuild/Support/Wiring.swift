import Dataset
import Filter
import Foundation
import Generate

/// What only the CLI can put together: parts that need two modules that may not import each other.
enum Wiring {
    /// The VLM watermark judge (Filter) over the configured chat endpoint (Generate's client).
    static func watermarkJudge(_ context: CommandContext, settings: FilterSettings) -> any WatermarkJudging {
        VLMWatermarkJudge(service: chatClient(context), model: settings.vlmModel ?? LLMSettings(recipe: context.recipe).model)
    }

    /// The relevance judge (Filter) over the configured chat endpoint (Generate's client).
    static func relevanceJudge(_ context: CommandContext, settings: FilterSettings) -> any RelevanceJudging {
        VLMRelevanceJudge(service: chatClient(context), model: settings.relevanceModel ?? LLMSettings(recipe: context.recipe).model)
    }

    /// The OpenAI-compatible client the recipe and environment configure, cached in the workspace's manifest.
    private static func chatClient(_ context: CommandContext) -> OpenAIClient {
        let configuration = OpenAIClientConfiguration.from(recipe: context.recipe, environment: ProcessInfo.processInfo.environment)
        return OpenAIClient(configuration: configuration, cache: LLMCache(manifest: context.workspace.manifest), logger: context.logger)
    }
}
