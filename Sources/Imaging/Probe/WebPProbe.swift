/// WebP: RIFF container with VP8 (lossy), VP8L (lossless) or VP8X (extended: canvas size, alpha,
/// animation with ANIM/ANMF, EXIF and "XMP " chunks).
enum WebPProbe {
    static func probe(_ r: ByteReader, scope: ProbeScope = .full) throws(ProbeError) -> ImageProbe {
        guard r.has(0, 20) else { throw .truncated(.webp) }
        var o = 12
        var result: ImageProbe?
        var frames = 0
        var extended = false
        var rights = EmbeddedRights()
        var orientation = 1
        while r.has(o, 8) {
            let size = r.u32le(o + 4)!
            let body = o + 8
            let available = min(size, r.count - body)
            let d = ByteReader(r.slice(body, available)!)
            if r.matches(o, "VP8X") {
                guard let flags = d.u8(0), let w = d.u24le(4), let h = d.u24le(7) else { throw .truncated(.webp) }
                extended = true
                result = ImageProbe(
                    format: .webp, width: w + 1, height: h + 1, animated: flags & 0x02 != 0, bitDepth: 8,
                    colorModel: flags & 0x10 != 0 ? .rgba : .rgb, hasAlpha: flags & 0x10 != 0)
            } else if r.matches(o, "VP8 ") {
                if !extended { result = try lossy(d) }
            } else if r.matches(o, "VP8L") {
                if !extended { result = try lossless(d) }
            } else if r.matches(o, "ANMF") {
                frames += 1
            } else if r.matches(o, "EXIF") {
                if let dir = TIFFDirectory.parseEXIF(d.bytes, readsText: scope.readsRights) {
                    if let v = dir.orientation { orientation = v }
                    rights.merge(dir.rights)
                }
            } else if scope.readsRights, r.matches(o, "XMP ") {
                if let xmp = XMP.parse(d.bytes) { rights.merge(xmp) }
            }
            if size > available { break }
            o = body + size + (size & 1)
        }
        guard var probe = result else {
            if o >= r.count || !r.has(o, 8) { throw .truncated(.webp) }
            throw .corrupt(.webp, "no VP8/VP8L/VP8X chunk")
        }
        if extended {
            probe.frameCount = probe.animated ? (frames > 0 ? frames : nil) : 1
            if frames > 1 { probe.animated = true }
        } else {
            probe.frameCount = 1
        }
        probe.rights = rights
        probe.setOrientation(orientation)
        return probe
    }

    static func lossy(_ d: ByteReader) throws(ProbeError) -> ImageProbe {
        guard d.has(0, 10) else { throw .truncated(.webp) }
        guard d.u8(3) == 0x9D, d.u8(4) == 0x01, d.u8(5) == 0x2A else {
            throw .corrupt(.webp, "VP8 frame start code missing (not a key frame?)")
        }
        let w = d.u16le(6)! & 0x3FFF, h = d.u16le(8)! & 0x3FFF
        guard w > 0, h > 0 else { throw .corrupt(.webp, "VP8 frame is \(w)×\(h)") }
        return ImageProbe(format: .webp, width: w, height: h, bitDepth: 8, colorModel: .ycbcr)
    }

    static func lossless(_ d: ByteReader) throws(ProbeError) -> ImageProbe {
        guard d.has(0, 5) else { throw .truncated(.webp) }
        guard d.u8(0) == 0x2F else { throw .corrupt(.webp, "VP8L signature byte is not 0x2F") }
        let bits = UInt32(d.u32le(1)!)
        let w = Int(bits & 0x3FFF) + 1, h = Int((bits >> 14) & 0x3FFF) + 1
        let alpha = (bits >> 28) & 1 == 1
        guard bits >> 29 == 0 else { throw .corrupt(.webp, "VP8L version is not 0") }
        return ImageProbe(
            format: .webp, width: w, height: h, bitDepth: 8, colorModel: alpha ? .rgba : .rgb,
            hasAlpha: alpha, lossless: true)
    }
}
