import Dataset
import Foundation

/// `PixelAnalyzing` with the real codecs: a strict full decode for integrity, and the pHash (imagehash-exact or fast).
public struct CodecPixelAnalyzer: PixelAnalyzing {
    public init() {}

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

    public func perceptualHash(fileAt url: URL, mode: PerceptualHash.Mode) throws -> String {
        try PerceptualHash.compute(fileAt: url, mode: mode).description
    }
}

/// `ThumbnailMaking` with the real codecs: decode, apply the EXIF orientation, downscale, encode a small JPEG.
public struct CodecThumbnailer: ThumbnailMaking {
    public var quality: Int

    public init(quality: Int = 80) { self.quality = quality }

    public func thumbnail(fileAt url: URL, maxSide: Int) throws -> Data {
        let orientation = (try? ImageProber.probe(fileAt: url, scope: .geometry).orientation) ?? 1
        let decoded = try ImageDecoder.decode(fileAt: url, strict: false)
        let upright = decoded.applyingOrientation(orientation)
        let small = Resampler.thumbnail(upright.rgb(), maxSide: maxSide, filter: .bilinear)
        return try ImageEncoder.jpeg(small, quality: quality)
    }
}
