import Dataset
import Filter
import Foundation

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

    /// Small JPEG thumbnails for the report.
    static func thumbnailer() -> (any ThumbnailMaking)? {
        CodecThumbnailer()
    }

    /// The VLM watermark judge over the configured chat endpoint.
    static func watermarkJudge(_ context: CommandContext) throws -> (any WatermarkJudging)? {
        nil
    }
}
