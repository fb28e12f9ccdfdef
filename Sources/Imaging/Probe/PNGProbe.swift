/// PNG: signature, IHDR (with CRC check), then the chunks before the first IDAT: acTL (APNG),
/// eXIf (orientation, rights), iTXt "XML:com.adobe.xmp".
enum PNGProbe {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    static func probe(_ r: ByteReader, scope: ProbeScope = .full) throws(ProbeError) -> ImageProbe {
        guard r.count >= 8 else { throw .truncated(.png) }
        guard (0..<8).allSatisfy({ r.u8($0) == signature[$0] }) else {
            throw .corrupt(.png, "bad signature (file transferred in text mode?)")
        }
        guard r.has(8, 25) else { throw .truncated(.png) }
        guard r.u32be(8) == 13, r.matches(12, "IHDR") else { throw .corrupt(.png, "first chunk is not a 13-byte IHDR") }
        let crc = CRC32.checksum(r.slice(12, 17)!)
        guard UInt32(r.u32be(29)!) == crc else { throw .corrupt(.png, "IHDR CRC mismatch") }
        let width = r.u32be(16)!, height = r.u32be(20)!
        let depth = Int(r.u8(24)!), colorType = Int(r.u8(25)!), interlace = Int(r.u8(28)!)
        guard width > 0, height > 0, width <= Int(Int32.max), height <= Int(Int32.max) else {
            throw .corrupt(.png, "IHDR size \(width)×\(height) is out of range")
        }
        let depthAllowed: Bool
        switch colorType {
        case 0: depthAllowed = depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16
        case 3: depthAllowed = depth == 1 || depth == 2 || depth == 4 || depth == 8
        case 2, 4, 6: depthAllowed = depth == 8 || depth == 16
        default: throw .corrupt(.png, "invalid colour type \(colorType)")
        }
        guard depthAllowed else { throw .corrupt(.png, "invalid bit depth \(depth) for colour type \(colorType)") }
        guard interlace <= 1 else { throw .corrupt(.png, "invalid interlace method \(interlace)") }

        var o = 33
        var frames: Int?
        var orientation = 1
        var rights = EmbeddedRights()
        var hasTRNS = false
        var sawIDAT = false
        while r.has(o, 8) {
            let length = r.u32be(o)!
            guard length <= Int(Int32.max) else { throw .corrupt(.png, "chunk length \(length) out of range") }
            if r.matches(o + 4, "IDAT") { sawIDAT = true; break }
            if r.matches(o + 4, "IEND") { break }
            guard let chunk = r.slice(o + 4, length + 4), let stored = r.u32be(o + 8 + length) else {
                throw .truncated(.png)
            }
            let type = String(decoding: chunk.prefix(4), as: UTF8.self)
            if UInt32(stored) != CRC32.checksum(chunk) { throw .corrupt(.png, "\(type) chunk CRC mismatch") }
            let data = UnsafeRawBufferPointer(rebasing: chunk[4...])
            let d = ByteReader(data)
            switch type {
            case "acTL": frames = d.u32be(0)
            case "tRNS": hasTRNS = true
            case "eXIf":
                if let dir = TIFFDirectory.parseEXIF(data, readsText: scope.readsRights) {
                    if let v = dir.orientation { orientation = v }
                    rights.merge(dir.rights)
                }
            case "iTXt":
                // keyword \0 compression-flag compression-method language \0 translated \0 text
                if scope.readsRights, d.matches(0, "XML:com.adobe.xmp\u{0}"), d.u8(18) == 0 {
                    var p = 20
                    var nulls = 0
                    while p < d.count, nulls < 2 { if d.u8(p) == 0 { nulls += 1 }; p += 1 }
                    if nulls == 2, let xmp = XMP.parse(UnsafeRawBufferPointer(rebasing: data[p...])) { rights.merge(xmp) }
                }
            default: break
            }
            o += 12 + length
        }
        guard sawIDAT else {
            if r.has(o + 4, 4), r.matches(o + 4, "IEND") { throw .corrupt(.png, "no IDAT chunk (no image data)") }
            throw .truncated(.png)
        }
        let (model, components): (ColorModel, Int) = switch colorType {
        case 0: (.gray, 1)
        case 2: (.rgb, 3)
        case 3: (.palette, 1)
        case 4: (.grayAlpha, 2)
        default: (.rgba, 4)
        }
        let frameCount = frames ?? 1
        return ImageProbe(
            format: .png, width: width, height: height, orientation: orientation,
            animated: frameCount > 1, frameCount: frameCount, bitDepth: depth, colorModel: model,
            components: components,
            hasAlpha: colorType == 4 || colorType == 6 || hasTRNS, interlaced: interlace == 1, rights: rights)
    }
}
