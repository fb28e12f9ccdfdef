import Foundation

/// Resizes and re-encodes an image for writing into shards (`dsbuild shards --resize …`).
///
/// Declared in the shared core so that Train can ask for it without importing Filter, which owns the codecs
/// (libjpeg-turbo, libpng, libwebp); the CLI wires Filter's implementation in. EXIF orientation is applied by
/// the transformer, so the output is upright and carries no orientation tag.
public protocol ImageTransforming: Sendable {
    func transform(_ data: Data, format: String, request: ImageTransformRequest) throws -> TransformedImage
}

/// What the caller wants: a mode (`keep_ratio`, `center_crop`, `border`), the target size, and the re-encode quality.
public struct ImageTransformRequest: Sendable, Equatable, Hashable, Codable {
    public enum Mode: String, Sendable, Codable, CaseIterable {
        /// Longest side scaled to `size`, aspect ratio kept.
        case keepRatio = "keep_ratio"
        /// Shortest side scaled to `size`, then the centre `size`×`size` cut out.
        case centerCrop = "center_crop"
        /// Longest side scaled to `size`, then padded to `size`×`size`.
        case border
    }

    public var mode: Mode
    public var size: Int
    public var quality: Int

    public init(mode: Mode, size: Int, quality: Int) {
        self.mode = mode
        self.size = size
        self.quality = quality
    }
}

/// The transformer's output: encoded bytes, their format (`jpg`, `png`, `webp`) and pixel size.
public struct TransformedImage: Sendable {
    public var data: Data
    public var format: String
    public var width: Int
    public var height: Int

    public init(data: Data, format: String, width: Int, height: Int) {
        self.data = data
        self.format = format
        self.width = width
        self.height = height
    }
}
