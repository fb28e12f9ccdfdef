/// IPTC-IIM inside a Photoshop image-resource block (JPEG APP13 "Photoshop 3.0\0", resource 0x0404).
enum IPTC {
    /// Parse the Photoshop resource blocks (payload after "Photoshop 3.0\0") and read the IPTC record.
    static func parsePhotoshopResources(_ bytes: UnsafeRawBufferPointer) -> EmbeddedRights? {
        let r = ByteReader(bytes)
        var o = 0
        var result: EmbeddedRights?
        while r.has(o, 12) {
            guard r.matches(o, "8BIM") || r.matches(o, "PHUT") || r.matches(o, "AgHg") || r.matches(o, "DCSR"),
                  let id = r.u16be(o + 4), let nameLength = r.u8(o + 6) else { break }
            var p = o + 6 + Int(nameLength) + 1
            if p & 1 == 1 { p += 1 }  // Pascal name padded to even length
            guard let size = r.u32be(p), let data = r.slice(p + 4, size) else { break }
            if id == 0x0404 {
                var rights = parseIIM(data)
                if let prev = result { rights.merge(prev) }
                result = rights
            }
            o = p + 4 + size + (size & 1)
        }
        return result
    }

    /// Parse IIM datasets (0x1C record dataset size data); record 2: 80 By-line, 110 Credit,
    /// 115 Source, 116 CopyrightNotice.
    static func parseIIM(_ bytes: UnsafeRawBufferPointer) -> EmbeddedRights {
        let r = ByteReader(bytes)
        var rights = EmbeddedRights()
        var o = 0
        while r.has(o, 5), r.u8(o) == 0x1C {
            guard let record = r.u8(o + 1), let dataset = r.u8(o + 2), let size = r.u16be(o + 3) else { break }
            if size & 0x8000 != 0 {
                // Extended dataset: the low 15 bits give the length of the length field.
                let lengthBytes = size & 0x7FFF
                guard lengthBytes <= 4, r.has(o + 5, lengthBytes) else { break }
                var length = 0
                for i in 0..<lengthBytes { length = length << 8 | Int(r.u8(o + 5 + i)!) }
                o += 5 + lengthBytes + length
                continue
            }
            guard let value = r.slice(o + 5, size) else { break }
            if record == 2 {
                let text = metadataString(value)
                switch dataset {
                case 80: if let text { rights.iptcByline.append(text) }
                case 110: rights.iptcCredit = rights.iptcCredit ?? text
                case 115: rights.iptcSource = rights.iptcSource ?? text
                case 116: rights.iptcCopyrightNotice = rights.iptcCopyrightNotice ?? text
                default: break
                }
            }
            o += 5 + size
        }
        return rights
    }
}
