import Foundation

/// A 64-bit perceptual hash computed exactly as Python `imagehash.phash` (v4.3.2) with Pillow:
/// `convert("L")` → `resize((32, 32), LANCZOS)` → 2-D DCT-II (scipy.fftpack, unnormalised, axis 0 then 1)
/// → top-left 8×8 → bit = coefficient > median → row-major, most significant bit first.
/// No EXIF transpose, alpha ignored — as imagehash does.
public struct PerceptualHash: Hashable, Sendable, Codable, CustomStringConvertible {
    public var value: UInt64

    public init(value: UInt64) { self.value = value }

    /// Parse imagehash's 16-hex-digit string form.
    public init?(hex: String) {
        guard hex.count == 16, let v = UInt64(hex, radix: 16) else { return nil }
        value = v
    }

    /// imagehash's `str(hash)`: 16 lowercase hex digits.
    public var hex: String {
        let s = String(value, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    public var description: String { hex }

    /// Hamming distance (number of differing bits), as `hash1 - hash2` in imagehash.
    public func distance(to other: PerceptualHash) -> Int { (value ^ other.value).nonzeroBitCount }

    public static func - (lhs: PerceptualHash, rhs: PerceptualHash) -> Int { lhs.distance(to: rhs) }

    /// Decode then hash. Decoding is strict (a truncated file is an error, as in Pillow by default).
    /// How closely to follow imagehash.
    public enum Mode: Sendable {
        /// Bit-exact with `imagehash.phash` + Pillow (full-resolution decode).
        case exact
        /// JPEGs decoded with libjpeg DCT scaling to a short side of at least `minSide` (default 128) before
        /// the same resize and DCT: several times faster; on K-Viscuit a few bits from the exact hash
        /// (see PerceptualHashTests.fastModeStaysCloseToExact). Fine for near-duplicate search with a
        /// Hamming threshold; not for exact-match dedup against hashes computed by imagehash.
        case fast(minSide: Int = 128)
    }

    public static func compute(data: Data, maxPixels: Int = ImageDecoder.defaultMaxPixels, mode: Mode = .exact) throws(DecodeError) -> PerceptualHash {
        var minSide: Int? = nil
        if case .fast(let side) = mode { minSide = max(side, 32) }
        do {
            return try data.withUnsafeBytes { (buf: UnsafeRawBufferPointer) throws(DecodeError) -> PerceptualHash in
                if buf.count > 2, buf[0] == 0xFF, buf[1] == 0xD8,
                   let small = try StreamedJPEGResize.luma(bytes: buf, width: size, height: size, filter: .lanczos,
                                                           maxPixels: maxPixels, strict: true, minSide: minSide ?? 0) {
                    return fromLuma32(small)
                }
                let luma = try ImageDecoder.decodeLuma(bytes: buf, maxPixels: maxPixels, reducedMinSide: minSide)
                return fromLuma32(Resampler.resize(luma, width: size, height: size, filter: .lanczos).pixels)
            }
        } catch let e as DecodeError {
            throw e
        } catch {
            throw .unsupported("\(error)")
        }
    }

    public static func compute(fileAt url: URL, maxPixels: Int = ImageDecoder.defaultMaxPixels, mode: Mode = .exact) throws(DecodeError) -> PerceptualHash {
        let data: Data
        do { data = try Data(contentsOf: url, options: [.alwaysMapped]) } catch {
            throw .unsupported("cannot read \(url.path): \(error.localizedDescription)")
        }
        return try compute(data: data, maxPixels: maxPixels, mode: mode)
    }

    static let size = 32
    static let hashSize = 8

    /// cos(π k (2n + 1) / 2N) for k < 8, n < 32.
    static let cosines: [Double] = {
        var t = [Double](repeating: 0, count: hashSize * size)
        for k in 0..<hashSize {
            for n in 0..<size {
                t[k * size + n] = cos(Double.pi * Double(k) * Double(2 * n + 1) / Double(2 * size))
            }
        }
        return t
    }()

    public static func compute(image: DecodedImage) -> PerceptualHash {
        let small = Resampler.resize(image.luma(), width: size, height: size, filter: .lanczos)
        return fromLuma32(small.pixels)
    }

    /// Hash from the 32×32 8-bit luma pixels (row-major).
    static func fromLuma32(_ pixels: [UInt8]) -> PerceptualHash {
        let n = size, h = hashSize
        let t = cosines
        // DCT along axis 0 (down each column), keeping rows k < 8: a[k][x] = 2 Σ_y p[y][x] cos(...)
        var a = [Double](repeating: 0, count: h * n)
        for k in 0..<h {
            for x in 0..<n {
                var s = 0.0
                for y in 0..<n { s += Double(pixels[y * n + x]) * t[k * n + y] }
                a[k * n + x] = 2 * s
            }
        }
        // DCT along axis 1 for the kept rows, keeping columns k < 8.
        var d = [Double](repeating: 0, count: h * h)
        for r in 0..<h {
            for k in 0..<h {
                var s = 0.0
                for x in 0..<n { s += a[r * n + x] * t[k * n + x] }
                d[r * h + k] = 2 * s
            }
        }
        let sorted = d.sorted()
        let median = (sorted[31] + sorted[32]) / 2
        var value: UInt64 = 0
        for v in d { value = value << 1 | (v > median ? 1 : 0) }
        return PerceptualHash(value: value)
    }
}

extension PerceptualHash {
    /// The pHash of the image's pixels as stored (`upright: false`, what the filter recorded), or after its EXIF
    /// orientation is applied (`upright: true`, what leaves the workspace): `dsbuild check` hashes shard and
    /// export images it cannot match to a stored image byte for byte.
    public static func compute(data: Data, upright: Bool) throws -> PerceptualHash {
        guard upright else { return try compute(data: data) }
        let orientation = (try? ImageProber.probe(data: data, scope: .geometry).orientation) ?? 1
        guard orientation != 1 else { return try compute(data: data) }
        return compute(image: try ImageDecoder.decode(data: data).applyingOrientation(orientation))
    }
}
