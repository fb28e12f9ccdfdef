import Foundation

/// Prepares an image for a chat request: upright (EXIF orientation applied, so the model sees what a person
/// sees) and with its long side at most `maxSide`.
///
/// The codecs live in the Filter module, which Generate cannot import; the CLI wires Filter's encoder in through
/// this protocol. `IdentityDownscaler` (the fallback) sends the stored bytes unchanged.
public protocol ImageDownscaling: Sendable {
    /// Returns the bytes and MIME type to send. Called for every image sent: an image that is already upright
    /// (orientation 1 or none) and no larger than `maxSide` comes back unchanged, byte for byte, so request
    /// bodies (and the request cache) stay as they were; anything else is rotated and/or scaled down and
    /// re-encoded.
    func downscale(_ data: Data, mimeType: String, maxSide: Int) throws -> (data: Data, mimeType: String)
}

/// Sends the bytes as they are (used when no encoder is wired in).
public struct IdentityDownscaler: ImageDownscaling {
    public init() {}
    public func downscale(_ data: Data, mimeType: String, maxSide: Int) throws -> (data: Data, mimeType: String) {
        (data, mimeType)
    }
}
