/// JPEG: walks markers from SOI to SOS, reading SOF* for size and coding, APP1 EXIF/XMP,
/// APP13 Photoshop/IPTC and APP14 Adobe on the way. Never reads entropy-coded data.
enum JPEGProbe {
    static let xmpSignature: StaticString = "http://ns.adobe.com/xap/1.0/\u{0}"
    static let extendedXMPSignature: StaticString = "http://ns.adobe.com/xmp/extension/\u{0}"

    static func probe(_ r: ByteReader, scope: ProbeScope = .full) throws(ProbeError) -> ImageProbe {
        let readsRights = scope.readsRights
        var o = 2
        var sof: (marker: UInt8, precision: Int, height: Int, width: Int, components: Int, rgbIDs: Bool)?
        var adobeTransform: Int?
        var sawJFIF = false
        var rights = EmbeddedRights()
        var orientation = 1
        var photoshop: [UInt8] = []
        var extendedXMP: [(offset: Int, bytes: [UInt8])] = []
        var sawSOS = false

        markers: while true {
            // Find the next marker: 0xFF followed by a non-0xFF, non-zero byte (0xFF fill bytes allowed).
            guard let b = r.u8(o) else { break }
            guard b == 0xFF else {
                throw .corrupt(.jpeg, "expected a marker at byte \(o), found 0x\(String(b, radix: 16))")
            }
            var m: UInt8 = 0xFF
            while let next = r.u8(o + 1), next == 0xFF { o += 1 }
            guard let marker = r.u8(o + 1) else { break }
            m = marker
            o += 2
            switch m {
            case 0x01, 0xD0...0xD7: continue markers  // standalone
            case 0xD9: break markers  // EOI before SOS
            case 0x00: throw .corrupt(.jpeg, "stuffed zero where a marker was expected at byte \(o - 2)")
            default: break
            }
            guard let length = r.u16be(o) else { break }
            guard length >= 2 else { throw .corrupt(.jpeg, "marker 0x\(String(m, radix: 16, uppercase: true)) has length \(length)") }
            let payloadStart = o + 2
            let payloadLength = length - 2
            guard let payload = r.slice(payloadStart, payloadLength) else { break }
            let p = ByteReader(payload)
            switch m {
            case 0xC0...0xC3, 0xC5...0xC7, 0xC9...0xCB, 0xCD...0xCF:
                guard sof == nil else { break }
                guard let precision = p.u8(0), let h = p.u16be(1), let w = p.u16be(3), let nc = p.u8(5) else {
                    throw .corrupt(.jpeg, "SOF segment too short (\(payloadLength) bytes)")
                }
                // Component ids 'R' 'G' 'B' mark an untransformed RGB JPEG.
                let rgbIDs = nc == 3 && p.u8(6) == 0x52 && p.u8(9) == 0x47 && p.u8(12) == 0x42
                sof = (m, Int(precision), h, w, Int(nc), rgbIDs)
            case 0xDA:
                sawSOS = true
                break markers
            case 0xE0:
                if p.matches(0, "JFIF\u{0}") { sawJFIF = true }
            case 0xE1:
                if p.matches(0, "Exif\u{0}") {
                    if let dir = TIFFDirectory.parseEXIF(payload, readsText: readsRights) {
                        if let o = dir.orientation { orientation = o }
                        if readsRights { rights.merge(dir.rights) }
                    }
                } else if !readsRights {
                    break
                } else if p.matches(0, xmpSignature) {
                    let n = xmpSignature.utf8CodeUnitCount
                    if let xmp = XMP.parse(UnsafeRawBufferPointer(rebasing: payload[n...])) { rights.merge(xmp) }
                } else if p.matches(0, extendedXMPSignature) {
                    // GUID (32) + full length (4) + offset (4) + chunk.
                    let n = extendedXMPSignature.utf8CodeUnitCount
                    if let off = p.u32be(n + 36), let chunk = p.array(n + 40, payloadLength - n - 40) {
                        extendedXMP.append((off, chunk))
                    }
                }
            case 0xED:
                if readsRights, p.matches(0, "Photoshop 3.0\u{0}") { photoshop += payload[14...] }
            case 0xEE:
                if p.matches(0, "Adobe"), let t = p.u8(11) { adobeTransform = Int(t) }
            default: break
            }
            o = payloadStart + payloadLength
        }

        guard let sof else {
            if sawSOS { throw .corrupt(.jpeg, "no SOF marker before the scan data") }
            throw .truncated(.jpeg)
        }
        guard sawSOS else { throw .truncated(.jpeg) }
        guard sof.width > 0 else { throw .corrupt(.jpeg, "SOF declares width 0") }
        guard sof.height > 0 else {
            throw .unsupported("JPEG whose height is defined by a DNL marker (SOF height 0)")
        }
        guard (1...4).contains(sof.components) else {
            throw .corrupt(.jpeg, "SOF declares \(sof.components) components")
        }
        if !photoshop.isEmpty {
            photoshop.withUnsafeBytes { if let iptc = IPTC.parsePhotoshopResources($0) { rights.merge(iptc) } }
        }
        if !extendedXMP.isEmpty {
            let joined = extendedXMP.sorted { $0.offset < $1.offset }.flatMap(\.bytes)
            joined.withUnsafeBytes { if let xmp = XMP.parse($0) { rights.merge(xmp) } }
        }
        let model: ColorModel
        switch sof.components {
        case 1: model = .gray
        case 3:
            if adobeTransform == 0 || (!sawJFIF && adobeTransform == nil && sof.rgbIDs) {
                model = .rgb
            } else {
                model = .ycbcr
            }
        case 4: model = adobeTransform == 2 ? .ycck : .cmyk
        default: model = .unknown
        }
        let m = sof.marker
        return ImageProbe(
            format: .jpeg, width: sof.width, height: sof.height, orientation: orientation,
            frameCount: 1, bitDepth: sof.precision, colorModel: model, components: sof.components,
            progressive: m & 0x03 == 0x02,  // C2 C6 CA CE (m is one of the SOF markers)
            arithmetic: (0xC9...0xCB).contains(m) || (0xCD...0xCF).contains(m),
            lossless: m & 0x03 == 0x03, jpegSOF: m, rights: rights)  // C3 C7 CB CF
    }
}
