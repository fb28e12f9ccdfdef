import Dataset
import Foundation

/// `ImageDownscaling` with the real codecs: images sent to a model are brought down to `maxSide` (EXIF
/// orientation applied) and sent as JPEG, so requests stay small.
public struct CodecDownscaler: ImageDownscaling {
    public var quality: Int

    public init(quality: Int = 85) { self.quality = quality }

    public func downscale(_ data: Data, mimeType: String, maxSide: Int) throws -> (data: Data, mimeType: String) {
        let out = try CodecImageTransformer().transform(data, format: mimeType, request: .init(mode: .keepRatio, size: maxSide, quality: quality))
        return (out.data, out.format == "png" ? "image/png" : "image/jpeg")
    }
}
