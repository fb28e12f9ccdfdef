import Foundation

/// What the filter's integrity and duplicates steps ask of an image's pixels: a strict full decode, and the pHash
/// (imagehash-exact or fast). Filter's `PixelAnalyzing` (its tests script failures and hashes through it) is
/// conformed to by this type.
public struct PixelAnalyzer: Sendable {
    public init() {}

    /// Fully decodes the file; throws `DecodeError` naming the cause when it is truncated or corrupt, or when its
    /// pixel count exceeds `maxPixels` (refused before allocating).
    public func verifyDecodes(fileAt url: URL, maxPixels: Int) throws {
        _ = try ImageDecoder.decode(fileAt: url, maxPixels: maxPixels, strict: true)
    }

    /// JPEGs (not CMYK) are verified by the streamed decode that also yields the exact pHash: every scanline
    /// is decoded strictly and the decoder finished, as a full decode would, without storing the pixels.
    public func verifyDecodesAndHash(fileAt url: URL, maxPixels: Int) throws -> String? {
        let data: Data
        do { data = try Data(contentsOf: url, options: [.alwaysMapped]) } catch {
            throw DecodeError.unsupported("cannot read \(url.path): \(error.localizedDescription)")
        }
        let hash = try data.withUnsafeBytes { (buf: UnsafeRawBufferPointer) throws(DecodeError) -> PerceptualHash? in
            guard buf.count > 2, buf[0] == 0xFF, buf[1] == 0xD8 else { return nil }
            return try StreamedJPEGResize.luma(bytes: buf, width: PerceptualHash.size, height: PerceptualHash.size,
                                               filter: .lanczos, maxPixels: maxPixels, strict: true)
                .map(PerceptualHash.fromLuma32)
        }
        if let hash { return hash.description }
        _ = try ImageDecoder.decode(data: data, maxPixels: maxPixels, strict: true)
        return nil
    }

    /// The 64-bit pHash as 16 hex digits.
    public func perceptualHash(fileAt url: URL, mode: PerceptualHash.Mode) throws -> String {
        try PerceptualHash.compute(fileAt: url, mode: mode).description
    }
}
