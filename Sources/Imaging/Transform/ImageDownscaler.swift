import Foundation

/// Prepares an image for a chat request (describe, eval): every image sent to a model is upright (EXIF orientation applied)
/// and at most `maxSide` on its long side. An upright image within the limit is sent as stored, byte for
/// byte; any other is rotated and/or scaled down (never up) and sent as JPEG, or PNG when it has alpha.
public struct ImageDownscaler: Sendable {
    public var quality: Int

    public init(quality: Int = 85) { self.quality = quality }

    /// The bytes and MIME type to send. An image that is already upright (orientation 1 or none) and no larger
    /// than `maxSide` comes back unchanged, byte for byte, so request bodies (and the request cache) stay as they
    /// were; anything else is rotated and/or scaled down and re-encoded.
    public func downscale(_ data: Data, mimeType: String, maxSide: Int) throws -> (data: Data, mimeType: String) {
        let probe = try? ImageProber.probe(data: data, scope: .geometry)
        let orientation = probe?.orientation ?? 1
        let longSide = probe.map { max($0.width, $0.height) } ?? Int.max
        if orientation == 1 && longSide <= maxSide { return (data, mimeType) }
        let side = min(maxSide, longSide == Int.max ? maxSide : longSide)
        let out = try ImageTransformer().transform(data, format: mimeType, request: .init(mode: .keepRatio, size: side, quality: quality))
        return (out.data, out.format == "png" ? "image/png" : "image/jpeg")
    }
}
