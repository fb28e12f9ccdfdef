import Foundation

/// Small, fully decodable images in the formats the world sends — PNG (any channel count, alpha included),
/// baseline JPEG (colour or greyscale, with an EXIF orientation), lossless WebP — written by minimal encoders
/// in Swift, so tests control every pixel without Python or the Filter module's codecs.
extension ImageFactory {
    // MARK: - PNG (stored deflate)

    public static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var a: UInt32 = 1, b: UInt32 = 0
        for v in bytes { a = (a + UInt32(v)) % 65521; b = (b + a) % 65521 }
        return b << 16 | a
    }

    /// A zlib stream of stored (uncompressed) deflate blocks.
    public static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            let last: UInt8 = offset + n >= data.count ? 1 : 0
            out += [last] + le16(n) + le16(~n & 0xFFFF)
            out += data[offset..<offset + n]
            offset += n
        } while offset < data.count
        return out + be32(Int(adler32(data)))
    }

    /// An 8-bit PNG: 1 channel grey, 2 grey+alpha, 3 RGB, 4 RGBA; `pixels` row-major, interleaved.
    public static func png(width: Int, height: Int, channels: Int, pixels: [UInt8]) -> Data {
        precondition(pixels.count == width * height * channels)
        let colorType = [1: 0, 2: 4, 3: 2, 4: 6][channels]!
        var raw: [UInt8] = []
        raw.reserveCapacity((width * channels + 1) * height)
        for y in 0..<height {
            raw.append(0)
            raw += pixels[(y * width * channels)..<((y + 1) * width * channels)]
        }
        var b: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        b += pngChunk("IHDR", be32(width) + be32(height) + [8, UInt8(colorType), 0, 0, 0])
        b += pngChunk("IDAT", zlibStored(raw))
        b += pngChunk("IEND", [])
        return Data(b)
    }

    // MARK: - Baseline JPEG (flat 8×8 blocks)

    /// A baseline JPEG whose every 8×8 block is flat: `block(bx, by)` gives the block's sample per component
    /// (1 component: greyscale; 3: Y, Cb, Cr). Quantisation 1 and DC-only coefficients, so it decodes to
    /// exactly these values. `orientation` adds an EXIF APP1 with that tag.
    public static func blockJPEG(width: Int, height: Int, components: Int = 3, orientation: Int? = nil,
                                 block: (Int, Int) -> [UInt8]) -> Data {
        precondition(components == 1 || components == 3)
        var b: [UInt8] = [0xFF, 0xD8]
        if let orientation { b += exifAPP1(orientation: orientation) }
        b += jpegSegment(0xDB, [0x00] + [UInt8](repeating: 1, count: 64))
        var sofPayload: [UInt8] = [8] + be16(height) + be16(width) + [UInt8(components)]
        for i in 0..<components { sofPayload += [UInt8(i + 1), 0x11, 0] }
        b += jpegSegment(0xC0, sofPayload)
        // DC: the standard luminance table (categories 0–11). AC: one 1-bit code "0", EOB (an all-ones code
        // is not allowed, so a second 1-bit code would be refused).
        let dcBits: [UInt8] = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
        let dcValues: [UInt8] = Array(0...11)
        let acBits: [UInt8] = [1] + [UInt8](repeating: 0, count: 15)
        let acValues: [UInt8] = [0x00]
        b += jpegSegment(0xC4, [0x00] + dcBits + dcValues + [0x10] + acBits + acValues)
        var sos: [UInt8] = [UInt8(components)]
        for i in 0..<components { sos += [UInt8(i + 1), 0x00] }
        b += jpegSegment(0xDA, sos + [0, 63, 0])

        let dcCodes = canonicalCodes(bits: dcBits, values: dcValues)
        var writer = MSBBitWriter()
        var previous = [Int](repeating: 0, count: components)
        for by in 0..<((height + 7) / 8) {
            for bx in 0..<((width + 7) / 8) {
                let values = block(bx, by)
                for c in 0..<components {
                    let dc = (Int(values[c]) - 128) * 8  // orthonormal DCT of a flat block, quantiser 1
                    let diff = dc - previous[c]
                    previous[c] = dc
                    let magnitude = abs(diff)
                    let category = magnitude == 0 ? 0 : Int.bitWidth - magnitude.leadingZeroBitCount
                    let code = dcCodes[UInt8(category)]!
                    writer.write(code.code, count: code.length)
                    if category > 0 {
                        let bits = diff > 0 ? diff : diff + (1 << category) - 1
                        writer.write(bits, count: category)
                    }
                    writer.write(0, count: 1)  // AC: EOB
                }
            }
        }
        b += writer.finishedStuffed()
        b += [0xFF, 0xD9]
        return Data(b)
    }

    /// Canonical Huffman codes (as JPEG's DHT defines them) by symbol.
    static func canonicalCodes(bits: [UInt8], values: [UInt8]) -> [UInt8: (code: Int, length: Int)] {
        var out: [UInt8: (Int, Int)] = [:]
        var code = 0, k = 0
        for length in 1...16 {
            for _ in 0..<Int(bits[length - 1]) { out[values[k]] = (code, length); code += 1; k += 1 }
            code <<= 1
        }
        return out
    }

    struct MSBBitWriter {
        var bytes: [UInt8] = []
        var accumulator = 0
        var count = 0
        mutating func write(_ value: Int, count n: Int) {
            for i in stride(from: n - 1, through: 0, by: -1) {
                accumulator = accumulator << 1 | (value >> i & 1)
                count += 1
                if count == 8 { bytes.append(UInt8(accumulator)); accumulator = 0; count = 0 }
            }
        }
        /// Pads with 1 bits and stuffs a 0 after every 0xFF.
        mutating func finishedStuffed() -> [UInt8] {
            if count > 0 { write((1 << (8 - count)) - 1, count: 8 - count) }
            var out: [UInt8] = []
            for v in bytes { out.append(v); if v == 0xFF { out.append(0) } }
            return out
        }
    }

    // MARK: - Lossless WebP (two values per channel)

    /// A lossless (VP8L) WebP, no alpha, where each of red, green and blue takes one of two values: `pixel(x, y)`
    /// says, per channel, whether it is `bright` (else `dark`). Simple one-bit prefix codes, no transforms.
    public static func webpLossless(width: Int, height: Int, dark: UInt8 = 20, bright: UInt8 = 230,
                                    pixel: (Int, Int) -> (red: Bool, green: Bool, blue: Bool)) -> Data {
        precondition(dark < bright)
        var w = LSBBitWriter()
        w.write(0x2F, 8)
        w.write(width - 1, 14)
        w.write(height - 1, 14)
        w.write(0, 1)  // alpha unused
        w.write(0, 3)  // version 0
        w.write(0, 1)  // no transform
        w.write(0, 1)  // no colour cache
        w.write(0, 1)  // no meta prefix codes
        func twoSymbols() { w.write(1, 1); w.write(1, 1); w.write(1, 1); w.write(Int(dark), 8); w.write(Int(bright), 8) }
        twoSymbols()  // green
        twoSymbols()  // red
        twoSymbols()  // blue
        w.write(1, 1); w.write(0, 1); w.write(1, 1); w.write(255, 8)  // alpha: always 255
        w.write(1, 1); w.write(0, 1); w.write(0, 1); w.write(0, 1)    // distance: one symbol, 0
        for y in 0..<height {
            for x in 0..<width {
                let p = pixel(x, y)
                w.write(p.green ? 1 : 0, 1)
                w.write(p.red ? 1 : 0, 1)
                w.write(p.blue ? 1 : 0, 1)
            }
        }
        return riff([riffChunk("VP8L", w.finished())])
    }

    struct LSBBitWriter {
        var bytes: [UInt8] = []
        var accumulator: UInt64 = 0
        var count = 0
        mutating func write(_ value: Int, _ n: Int) {
            accumulator |= UInt64(value & ((1 << n) - 1)) << UInt64(count)
            count += n
            while count >= 8 { bytes.append(UInt8(accumulator & 0xFF)); accumulator >>= 8; count -= 8 }
        }
        mutating func finished() -> [UInt8] {
            if count > 0 { bytes.append(UInt8(accumulator & 0xFF)); accumulator = 0; count = 0 }
            return bytes
        }
    }
}
