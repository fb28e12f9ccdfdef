import Dataset
import Filter
import Foundation

/// Connects modules that may not import each other: the CLI hands each stage the implementations it needs.
enum Wiring {
    /// The codec-backed pixel analyzer for integrity and pHash.
    static func pixelAnalyzer() -> (any PixelAnalyzing)? {
        nil
    }

    /// Small JPEG thumbnails for the report.
    static func thumbnailer() -> (any ThumbnailMaking)? {
        nil
    }

    /// The VLM watermark judge over the configured chat endpoint.
    static func watermarkJudge(_ context: CommandContext) throws -> (any WatermarkJudging)? {
        nil
    }
}
