import Dataset
import Filter
import Foundation
import Generate

/// Connects modules that may not import each other: the CLI hands each stage the implementations it needs.
enum Wiring {
    /// The codec-backed pixel analyzer for integrity and pHash.
    static func pixelAnalyzer() -> (any PixelAnalyzing)? {
        CodecPixelAnalyzer()
    }

    /// The header prober Collect calls on each new image.
    static func imageProber() -> any ImageProbing {
        CodecImageProber()
    }

    /// pHashes of images `dsbuild check` cannot match to a stored image byte for byte.
    static func perceptualHasher() -> any PerceptualHashing {
        CodecPerceptualHasher()
    }

    /// Small JPEG thumbnails for the report.
    static func thumbnailer() -> (any ThumbnailMaking)? {
        CodecThumbnailer()
    }

    /// Resize/re-encode for `dsbuild shards --resize`.
    static func imageTransformer() -> (any ImageTransforming)? {
        CodecImageTransformer()
    }

    /// The VLM watermark judge over the configured chat endpoint.
    static func watermarkJudge(_ context: CommandContext) throws -> (any WatermarkJudging)? {
        let configuration = OpenAIClientConfiguration.from(recipe: context.recipe, environment: ProcessInfo.processInfo.environment)
        let client = OpenAIClient(configuration: configuration, cache: LLMCache(manifest: context.workspace.manifest),
                                  logger: context.logger)
        let model = FilterSettings(recipe: context.recipe).vlmModel ?? LLMSettings(recipe: context.recipe).model
        return VLMWatermarkJudge(service: client, model: model)
    }

    /// Downscales images before they are sent to a model.
    static func downscaler() -> any ImageDownscaling {
        CodecDownscaler()
    }
}
