import Dataset
import Filter
import Foundation
import Generate

/// What only the CLI can put together: parts that need two modules that may not import each other.
enum Wiring {
    /// The VLM watermark judge (Filter) over the configured chat endpoint (Generate's client).
    static func watermarkJudge(_ context: CommandContext) throws -> (any WatermarkJudging)? {
        let configuration = OpenAIClientConfiguration.from(recipe: context.recipe, environment: ProcessInfo.processInfo.environment)
        let client = OpenAIClient(configuration: configuration, cache: LLMCache(manifest: context.workspace.manifest),
                                  logger: context.logger)
        let model = FilterSettings(recipe: context.recipe).vlmModel ?? LLMSettings(recipe: context.recipe).model
        return VLMWatermarkJudge(service: client, model: model)
    }
}
