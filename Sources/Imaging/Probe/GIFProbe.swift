/// GIF: logical screen size, then walks the block structure to count frames (image descriptors).
enum GIFProbe {
    static func probe(_ r: ByteReader) throws(ProbeError) -> ImageProbe {
        guard r.has(0, 13) else { throw .truncated(.gif) }
        let width = r.u16le(6)!, height = r.u16le(8)!
        let flags = r.u8(10)!
        var o = 13
        if flags & 0x80 != 0 { o += 3 << (Int(flags & 7) + 1) }
        var frames = 0
        var interlaced = false
        var complete = false
        func skipSubBlocks(_ start: Int) -> Int? {
            var p = start
            while true {
                guard let n = r.u8(p) else { return nil }
                p += 1
                if n == 0 { return p }
                p += Int(n)
            }
        }
        walk: while let block = r.u8(o) {
            switch block {
            case 0x2C:
                guard r.has(o, 10) else { break walk }
                let f = r.u8(o + 9)!
                if frames == 0 { interlaced = f & 0x40 != 0 }
                var p = o + 10
                if f & 0x80 != 0 { p += 3 << (Int(f & 7) + 1) }
                p += 1  // LZW minimum code size
                guard let end = skipSubBlocks(p) else { frames += 1; break walk }
                frames += 1
                o = end
            case 0x21:
                guard let end = skipSubBlocks(o + 2) else { break walk }
                o = end
            case 0x3B:
                complete = true
                break walk
            default:
                if frames == 0 { throw .corrupt(.gif, "unknown block 0x\(String(block, radix: 16)) at byte \(o)") }
                break walk  // trailing garbage after frames: many viewers accept it
            }
        }
        guard frames > 0 else {
            if complete { throw .corrupt(.gif, "no image frames") }
            throw .truncated(.gif)
        }
        guard width > 0, height > 0 else { throw .corrupt(.gif, "logical screen is \(width)×\(height)") }
        return ImageProbe(
            format: .gif, width: width, height: height, animated: frames > 1, frameCount: frames,
            bitDepth: 8, colorModel: .palette, components: 1, interlaced: interlaced)
    }
}
