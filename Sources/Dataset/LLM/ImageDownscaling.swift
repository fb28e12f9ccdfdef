import Foundation

/// Re-encodes an image so its long side is at most `maxSide` before it goes into a chat request.
///
/// The codecs live in the Filter module, which Generate cannot import; the CLI wires Filter's encoder in through
/// this protocol. `IdentityDownscaler` (the fallback) sends the stored bytes unchanged.
public protocol ImageDownscaling: Sendable {
    /// Returns the bytes and MIME type to send. Called only when the stored image's long side exceeds `maxSide`.
    func downscale(_ data: Data, mimeType: String, maxSide: Int) throws -> (data: Data, mimeType: String)
}

/// Sends the bytes as they are (used when no encoder is wired in).
public struct IdentityDownscaler: ImageDownscaling {
    public init() {}
    public func downscale(_ data: Data, mimeType: String, maxSide: Int) throws -> (data: Data, mimeType: String) {
        (data, mimeType)
    }
}
