/// GIF first frame (LZW) to RGB, composited onto the logical screen filled with palette index 0.
/// Transparency is ignored (as Pillow's convert("L") would ignore it).
enum GIFDecoder {
    static func decode(_ r: ByteReader, maxPixels: Int) throws(DecodeError) -> DecodedImage {
        guard r.has(0, 13) else { throw .truncated(.gif, "header cut short") }
        let sw = r.u16le(6)!, sh = r.u16le(8)!
        guard sw * sh <= maxPixels else { throw .tooLarge(width: sw, height: sh, maxPixels: maxPixels) }
        let flags = r.u8(10)!
        var o = 13
        var global: [UInt8] = []
        if flags & 0x80 != 0 {
            let n = 3 << (Int(flags & 7) + 1)
            guard let table = r.array(o, n) else { throw .truncated(.gif, "global colour table cut short") }
            global = table
            o += n
        }
        while let block = r.u8(o) {
            if block == 0x21 {
                o += 2
                while let n = r.u8(o), n != 0 { o += 1 + Int(n) }
                o += 1
                continue
            }
            guard block == 0x2C else { break }
            guard r.has(o, 10) else { break }
            let fx = r.u16le(o + 1)!, fy = r.u16le(o + 3)!, fw = r.u16le(o + 5)!, fh = r.u16le(o + 7)!
            let f = r.u8(o + 9)!
            o += 10
            var palette = global
            if f & 0x80 != 0 {
                let n = 3 << (Int(f & 7) + 1)
                guard let table = r.array(o, n) else { throw .truncated(.gif, "local colour table cut short") }
                palette = table
                o += n
            }
            guard let minCode = r.u8(o), minCode >= 2, minCode <= 8 else { throw .corrupt(.gif, "bad LZW minimum code size") }
            o += 1
            var data: [UInt8] = []
            while true {
                guard let n = r.u8(o) else { throw .truncated(.gif, "image data ends early") }
                o += 1
                if n == 0 { break }
                guard let chunk = r.slice(o, Int(n)) else { throw .truncated(.gif, "image data ends early") }
                data.append(contentsOf: chunk)
                o += Int(n)
            }
            let indices = try lzw(data, minCodeSize: Int(minCode), count: fw * fh)
            if palette.isEmpty { palette = (0..<256).flatMap { [UInt8($0), UInt8($0), UInt8($0)] } }
            let colors = palette.count / 3
            var out = [UInt8](repeating: 0, count: sw * sh * 3)
            for i in 0..<(sw * sh) { out[3 * i] = palette[0]; out[3 * i + 1] = palette[1]; out[3 * i + 2] = palette[2] }
            let rows: [Int] = f & 0x40 != 0
                ? Array(stride(from: 0, to: fh, by: 8)) + Array(stride(from: 4, to: fh, by: 8))
                    + Array(stride(from: 2, to: fh, by: 4)) + Array(stride(from: 1, to: fh, by: 2))
                : Array(0..<fh)
            for (srcRow, y) in rows.enumerated() {
                let dy = fy + y
                guard dy < sh else { continue }
                for x in 0..<fw where fx + x < sw {
                    let index = Int(indices[srcRow * fw + x])
                    guard index < colors else { continue }
                    let d = (dy * sw + fx + x) * 3
                    out[d] = palette[3 * index]; out[d + 1] = palette[3 * index + 1]; out[d + 2] = palette[3 * index + 2]
                }
            }
            return DecodedImage(width: sw, height: sh, channels: 3, pixels: out)
        }
        throw .truncated(.gif, "no image frame before the end of the file")
    }

    /// GIF-flavoured LZW (variable code width up to 12 bits, LSB-first). Missing trailing codes are an error.
    static func lzw(_ data: [UInt8], minCodeSize: Int, count: Int) throws(DecodeError) -> [UInt8] {
        let clear = 1 << minCodeSize, end = clear + 1
        var prefix = [Int](repeating: -1, count: 4096)
        var suffix = [UInt8](repeating: 0, count: 4096)
        var firstChar = [UInt8](repeating: 0, count: 4096)
        for i in 0..<clear { suffix[i] = UInt8(truncatingIfNeeded: i); firstChar[i] = UInt8(truncatingIfNeeded: i) }
        var out = [UInt8]()
        out.reserveCapacity(count)
        var width = minCodeSize + 1
        var next = end + 1
        var previous = -1
        var bitBuffer = 0, bitCount = 0, p = 0
        var stack = [UInt8](repeating: 0, count: 4096)
        while out.count < count {
            while bitCount < width {
                guard p < data.count else { throw .truncated(.gif, "LZW data ends after \(out.count) of \(count) pixels") }
                bitBuffer |= Int(data[p]) << bitCount
                bitCount += 8
                p += 1
            }
            let code = bitBuffer & ((1 << width) - 1)
            bitBuffer >>= width
            bitCount -= width
            if code == clear {
                width = minCodeSize + 1
                next = end + 1
                previous = -1
                continue
            }
            if code == end { break }
            var c = code
            var sp = 0
            if previous == -1 {
                guard code < clear else { throw .corrupt(.gif, "LZW stream starts with code \(code)") }
                out.append(UInt8(truncatingIfNeeded: code))
                previous = code
                continue
            }
            if code >= next {
                guard code == next else { throw .corrupt(.gif, "LZW code \(code) out of sequence") }
                stack[sp] = firstChar[previous]; sp += 1
                c = previous
            }
            while c >= clear {
                stack[sp] = suffix[c]; sp += 1
                c = prefix[c]
                guard c >= 0, sp < 4096 else { throw .corrupt(.gif, "LZW table loop") }
            }
            stack[sp] = UInt8(truncatingIfNeeded: c); sp += 1
            let first = UInt8(truncatingIfNeeded: c)
            while sp > 0 { sp -= 1; out.append(stack[sp]) }
            if next < 4096 {
                prefix[next] = previous
                suffix[next] = first
                firstChar[next] = firstChar[previous]
                next += 1
                if next == 1 << width && width < 12 { width += 1 }
            }
            previous = code
        }
        if out.count < count { throw .truncated(.gif, "frame has \(out.count) of \(count) pixels") }
        if out.count > count { out.removeLast(out.count - count) }
        return out
    }
}
