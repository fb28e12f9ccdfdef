/// 8-bit interleaved pixels: 1 channel (gray), 3 (RGB) or 4 (RGBA), rows packed top to bottom.
public struct DecodedImage: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
        precondition(channels >= 1 && channels <= 4 && pixels.count == width * height * channels)
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
    }

    /// Pillow's `convert("L")`: L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16; alpha ignored.
    public func luma() -> DecodedImage {
        if channels == 1 { return self }
        var out = [UInt8](repeating: 0, count: width * height)
        let c = channels
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                if c == 2 {
                    for i in 0..<dst.count { dst[i] = src[2 * i] }
                    return
                }
                for i in 0..<dst.count {
                    let p = i * c
                    let v = UInt32(src[p]) * 19595 + UInt32(src[p + 1]) * 38470 + UInt32(src[p + 2]) * 7471 + 0x8000
                    dst[i] = UInt8(truncatingIfNeeded: v >> 16)
                }
            }
        }
        return DecodedImage(width: width, height: height, channels: 1, pixels: out)
    }

    /// Drop alpha (composited on nothing, as Pillow's convert("RGB") does) or expand gray to RGB.
    public func rgb() -> DecodedImage {
        if channels == 3 { return self }
        var out = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            switch channels {
            case 1, 2:
                let g = pixels[i * channels]
                out[3 * i] = g; out[3 * i + 1] = g; out[3 * i + 2] = g
            default:
                out[3 * i] = pixels[4 * i]; out[3 * i + 1] = pixels[4 * i + 1]; out[3 * i + 2] = pixels[4 * i + 2]
            }
        }
        return DecodedImage(width: width, height: height, channels: 3, pixels: out)
    }
}

extension DecodedImage {
    /// Grey+alpha as RGBA (grey copied into each colour channel, alpha kept), as Pillow's convert("RGBA") does;
    /// any other image unchanged.
    public func rgba() -> DecodedImage {
        guard channels == 2 else { return self }
        var out = [UInt8](repeating: 0, count: width * height * 4)
        for i in 0..<(width * height) {
            let g = pixels[2 * i]
            out[4 * i] = g; out[4 * i + 1] = g; out[4 * i + 2] = g; out[4 * i + 3] = pixels[2 * i + 1]
        }
        return DecodedImage(width: width, height: height, channels: 4, pixels: out)
    }
}

/// Why pixels could not be decoded.
public enum DecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// width × height exceeds the limit; refused before allocating.
    case tooLarge(width: Int, height: Int, maxPixels: Int)
    /// The data ends before the image does (interrupted download).
    case truncated(ImageFormat, String)
    /// The decoder rejected the data (bad CRC, bad Huffman table, …).
    case corrupt(ImageFormat, String)
    /// No decoder for this format or variant (then integrity is "not verified: no decoder").
    case unsupported(String)
    /// The bytes are not a recognised image.
    case notAnImage(String)

    public var description: String {
        switch self {
        case .tooLarge(let w, let h, let max):
            "image is \(w)×\(h) = \(w * h) pixels, over the decode limit of \(max); raise max_pixels if it is genuine"
        case .truncated(let f, let d): "truncated \(f.rawValue.uppercased()): \(d)"
        case .corrupt(let f, let d): "corrupt \(f.rawValue.uppercased()): \(d)"
        case .unsupported(let d): "cannot decode: \(d)"
        case .notAnImage(let d): "not an image: \(d)"
        }
    }

    public var code: String {
        switch self {
        case .tooLarge: "too_large"
        case .truncated: "truncated"
        case .corrupt: "corrupt"
        case .unsupported: "unsupported"
        case .notAnImage: "not_an_image"
        }
    }
}

/// A NUL-terminated C message buffer as a Swift string.
func cString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
