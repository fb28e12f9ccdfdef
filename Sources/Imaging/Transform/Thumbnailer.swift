import Foundation

/// Small JPEG thumbnails (the report's): decode, apply the EXIF orientation, downscale, encode.
public struct Thumbnailer: Sendable {
    public var quality: Int

    public init(quality: Int = 80) { self.quality = quality }

    /// A JPEG no larger than `maxSide` on its longer side, EXIF orientation applied.
    public func thumbnail(fileAt url: URL, maxSide: Int) throws -> Data {
        let orientation = (try? ImageProber.probe(fileAt: url, scope: .geometry).orientation) ?? 1
        let decoded = try ImageDecoder.decode(fileAt: url, strict: false)
        let upright = decoded.applyingOrientation(orientation)
        let small = Resampler.thumbnail(upright.rgb(), maxSide: maxSide, filter: .bilinear)
        return try ImageEncoder.jpeg(small, quality: quality)
    }
}
