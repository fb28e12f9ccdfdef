import CImageShims
import CWebP
import Foundation

/// Why pixels could not be encoded.
public struct EncodeError: Error, Sendable, CustomStringConvertible {
    public var format: ImageFormat
    public var message: String
    public var description: String { "cannot encode \(format.rawValue.uppercased()): \(message)" }
}

/// JPEG (libjpeg-turbo) and PNG (libpng) encoding, for thumbnails, shards and test fixtures.
public enum ImageEncoder {
    /// Baseline (or progressive) JPEG at `quality` 1–100. Alpha is dropped; gray stays one component.
    public static func jpeg(_ image: DecodedImage, quality: Int = 90, progressive: Bool = false) throws(EncodeError) -> Data {
        let src = image.channels == 1 || image.channels == 3 ? image : image.rgb()
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        var err = [CChar](repeating: 0, count: 256)
        let rc = src.pixels.withUnsafeBufferPointer {
            dsb_jpeg_encode($0.baseAddress, Int32(src.width), Int32(src.height), Int32(src.channels),
                            Int32(min(max(quality, 1), 100)), progressive ? 1 : 0, &out, &length, &err, err.count)
        }
        guard rc == DSB_OK, let out else { throw EncodeError(format: .jpeg, message: cString(err)) }
        defer { dsb_free(out) }
        return Data(bytes: out, count: length)
    }

    /// CMYK JPEG from raw C, M, Y, K samples (4 per pixel), stored as given with libjpeg's Adobe marker.
    /// Mostly for tests: real-world CMYK comes from print workflows.
    public static func jpegCMYK(samples: [UInt8], width: Int, height: Int, quality: Int = 90) throws(EncodeError) -> Data {
        guard samples.count == width * height * 4 else { throw EncodeError(format: .jpeg, message: "need 4 samples per pixel") }
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        var err = [CChar](repeating: 0, count: 256)
        let rc = samples.withUnsafeBufferPointer {
            dsb_jpeg_encode($0.baseAddress, Int32(width), Int32(height), 4, Int32(min(max(quality, 1), 100)), 0, &out, &length, &err, err.count)
        }
        guard rc == DSB_OK, let out else { throw EncodeError(format: .jpeg, message: cString(err)) }
        defer { dsb_free(out) }
        return Data(bytes: out, count: length)
    }

    /// PNG of 8-bit pixels (1–4 channels), optionally Adam7-interlaced.
    public static func png(_ image: DecodedImage, interlaced: Bool = false) throws(EncodeError) -> Data {
        try png(samples: image.pixels, width: image.width, height: image.height, channels: image.channels,
                bitDepth: 8, interlaced: interlaced)
    }

    /// PNG from raw samples; `bitDepth` 16 takes big-endian sample pairs.
    public static func png(samples: [UInt8], width: Int, height: Int, channels: Int, bitDepth: Int, interlaced: Bool = false) throws(EncodeError) -> Data {
        guard samples.count == width * height * channels * bitDepth / 8 else {
            throw EncodeError(format: .png, message: "sample count does not match \(width)×\(height)×\(channels) at \(bitDepth) bits")
        }
        var out: UnsafeMutablePointer<UInt8>?
        var length = 0
        var err = [CChar](repeating: 0, count: 256)
        let rc = samples.withUnsafeBufferPointer {
            dsb_png_encode($0.baseAddress, Int32(width), Int32(height), Int32(channels), Int32(bitDepth),
                           interlaced ? 1 : 0, &out, &length, &err, err.count)
        }
        guard rc == DSB_OK, let out else { throw EncodeError(format: .png, message: cString(err)) }
        defer { dsb_free(out) }
        return Data(bytes: out, count: length)
    }

    /// WebP, lossy at `quality` 0–100 or lossless. Gray is expanded to RGB.
    public static func webp(_ image: DecodedImage, quality: Float = 85, lossless: Bool = false) throws(EncodeError) -> Data {
        let src = image.channels == 3 || image.channels == 4 ? image : image.rgb()
        var out: UnsafeMutablePointer<UInt8>?
        let stride = Int32(src.width * src.channels)
        let w = Int32(src.width), h = Int32(src.height)
        let length: Int = src.pixels.withUnsafeBufferPointer { p in
            switch (src.channels, lossless) {
            case (4, true): WebPEncodeLosslessRGBA(p.baseAddress, w, h, stride, &out)
            case (4, false): WebPEncodeRGBA(p.baseAddress, w, h, stride, quality, &out)
            case (_, true): WebPEncodeLosslessRGB(p.baseAddress, w, h, stride, &out)
            default: WebPEncodeRGB(p.baseAddress, w, h, stride, quality, &out)
            }
        }
        guard length > 0, let out else { throw EncodeError(format: .webp, message: "libwebp encoder failed") }
        defer { WebPFree(out) }
        return Data(bytes: out, count: length)
    }
}
