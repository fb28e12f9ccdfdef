import Dataset
import Filter
import Foundation
import Generate
import Imaging

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

    /// Small JPEG thumbnails for the report. The report still takes them through `ThumbnailMaking`
    /// (Dataset/Report), though it could now call `Imaging.Thumbnailer` itself.
    static func thumbnailer() -> (any ThumbnailMaking)? {
        ReportThumbnailer()
    }
}

/// `ThumbnailMaking` with `Imaging.Thumbnailer`.
struct ReportThumbnailer: ThumbnailMaking {
    func thumbnail(fileAt url: URL, maxSide: Int) throws -> Data {
        try Thumbnailer().thumbnail(fileAt: url, maxSide: maxSide)
    }
}
