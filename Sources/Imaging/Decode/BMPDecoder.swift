/// Uncompressed BMP (1/4/8-bit palette, 24-bit, 32-bit BI_RGB or BI_BITFIELDS) to RGB / RGBA.
enum BMPDecoder {
    static func decode(_ r: ByteReader, maxPixels: Int) throws(DecodeError) -> DecodedImage {
        let probe: ImageProbe
        do { probe = try BMPProbe.probe(r) } catch {
            if case .truncated = error { throw .truncated(.bmp, error.description) }
            throw .corrupt(.bmp, error.description)
        }
        let w = probe.width, h = probe.height
        guard probe.pixelCount <= maxPixels else { throw .tooLarge(width: w, height: h, maxPixels: maxPixels) }
        let dibSize = r.u32le(14)!
        guard dibSize >= 40 else { throw .unsupported("OS/2 BMP (12-byte header)") }
        let topDown = Int32(bitPattern: UInt32(r.u32le(22)!)) < 0
        let bpp = probe.bitDepth!
        let compression = r.u32le(30)!
        let dataOffset = r.u32le(10)!
        guard compression == 0 || (compression == 3 && (bpp == 32 || bpp == 16)) else {
            throw .unsupported("compressed BMP (compression \(compression))")
        }
        guard bpp != 16 else { throw .unsupported("16-bit BMP") }
        var palette: [(UInt8, UInt8, UInt8)] = []
        if bpp <= 8 {
            let colors = r.u32le(46).flatMap { $0 == 0 ? nil : $0 } ?? (1 << bpp)
            let start = 14 + dibSize
            for i in 0..<min(colors, 256) {
                guard let b = r.u8(start + 4 * i), let g = r.u8(start + 4 * i + 1), let rr = r.u8(start + 4 * i + 2) else {
                    throw .truncated(.bmp, "palette cut short")
                }
                palette.append((rr, g, b))
            }
        }
        var masks: (Int, Int, Int, Int) = (0xFF0000, 0xFF00, 0xFF, 0)
        if compression == 3 {
            let m = dibSize >= 52 ? 54 : 14 + dibSize  // masks follow a 40-byte header
            guard let rm = r.u32le(m), let gm = r.u32le(m + 4), let bm = r.u32le(m + 8) else { throw .truncated(.bmp, "bit masks cut short") }
            masks = (rm, gm, bm, dibSize >= 56 ? (r.u32le(m + 12) ?? 0) : 0)
        }
        let channels = probe.hasAlpha && masks.3 != 0 ? 4 : 3
        let stride = ((w * bpp + 31) / 32) * 4
        guard r.has(dataOffset, stride * h) else { throw .truncated(.bmp, "pixel data ends early") }
        var out = [UInt8](repeating: 0, count: w * h * channels)
        func shift(_ mask: Int) -> Int { mask == 0 ? 0 : mask.trailingZeroBitCount }
        func scale(_ v: Int, _ mask: Int) -> UInt8 {
            guard mask != 0 else { return 255 }
            // Bit width of the (possibly non-contiguous, hostile) mask, so x < 1 << bits always holds.
            let bits = Int.bitWidth - (mask >> shift(mask)).leadingZeroBitCount
            let x = (v & mask) >> shift(mask)
            return bits >= 8 ? UInt8(truncatingIfNeeded: x >> (bits - 8)) : UInt8(min(255, x * 255 / ((1 << bits) - 1)))
        }
        for y in 0..<h {
            let row = dataOffset + (topDown ? y : h - 1 - y) * stride
            for x in 0..<w {
                let o = (y * w + x) * channels
                switch bpp {
                case 24:
                    out[o] = r.bytes[row + 3 * x + 2]; out[o + 1] = r.bytes[row + 3 * x + 1]; out[o + 2] = r.bytes[row + 3 * x]
                case 32:
                    let v = r.u32le(row + 4 * x)!
                    out[o] = scale(v, masks.0); out[o + 1] = scale(v, masks.1); out[o + 2] = scale(v, masks.2)
                    if channels == 4 { out[o + 3] = scale(v, masks.3) }
                default:
                    let bit = x * bpp
                    let byte = Int(r.bytes[row + bit / 8])
                    let index = (byte >> (8 - bpp - bit % 8)) & ((1 << bpp) - 1)
                    let c = index < palette.count ? palette[index] : (0, 0, 0)
                    out[o] = c.0; out[o + 1] = c.1; out[o + 2] = c.2
                }
            }
        }
        return DecodedImage(width: w, height: h, channels: channels, pixels: out)
    }
}
