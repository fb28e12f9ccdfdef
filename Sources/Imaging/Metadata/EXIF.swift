/// A minimal TIFF/EXIF IFD reader: IFD0 only (orientation, copyright, artist, and the basic TIFF
/// image tags so the same code probes bare TIFF files). Every offset is bounds-checked.
struct TIFFDirectory {
    var orientation: Int?
    var copyright: String?
    var artist: String?
    var imageWidth: Int?
    var imageHeight: Int?
    var bitsPerSample: Int?
    var samplesPerPixel: Int?
    var photometric: Int?

    enum ParseError: Error { case notTIFF, truncated }

    /// Parse a TIFF structure ("II*\0" / "MM\0*") starting at the beginning of `bytes`.
    /// - Parameter readsText: decode Copyright and Artist (skipped by geometry-only probes).
    static func parse(_ bytes: UnsafeRawBufferPointer, readsText: Bool = true) throws(ParseError) -> TIFFDirectory {
        let r = ByteReader(bytes)
        let big: Bool
        if r.matches(0, "MM") { big = true } else if r.matches(0, "II") { big = false } else { throw .notTIFF }
        guard r.u16(2, bigEndian: big) == 42 else { throw .notTIFF }
        guard let ifd = r.u32(4, bigEndian: big), let entries = r.u16(ifd, bigEndian: big) else { throw .truncated }
        var dir = TIFFDirectory()
        let typeSizes = [0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8]
        for i in 0..<min(entries, 1024) {
            let e = ifd + 2 + i * 12
            guard let tag = r.u16(e, bigEndian: big), let type = r.u16(e + 2, bigEndian: big),
                  let count = r.u32(e + 4, bigEndian: big) else { break }
            guard type > 0, type < typeSizes.count else { continue }
            let (size, overflow) = typeSizes[type].multipliedReportingOverflow(by: count)
            guard !overflow else { continue }
            let valueOffset = size <= 4 ? e + 8 : (r.u32(e + 8, bigEndian: big) ?? -1)
            guard r.has(valueOffset, size) else { continue }
            func integer() -> Int? {
                guard count >= 1 else { return nil }
                switch type {
                case 3: return r.u16(valueOffset, bigEndian: big)
                case 4: return r.u32(valueOffset, bigEndian: big)
                case 1, 7: return r.u8(valueOffset).map(Int.init)
                default: return nil
                }
            }
            func text() -> String? {
                guard type == 2 || type == 1 || type == 7, let raw = r.slice(valueOffset, size) else { return nil }
                // EXIF Copyright may hold "photographer\0editor"; keep both parts.
                let parts = raw.split(separator: 0, omittingEmptySubsequences: true).compactMap { metadataString($0) }
                return parts.isEmpty ? nil : parts.joined(separator: "; ")
            }
            switch tag {
            case 0x0112: dir.orientation = integer()
            case 0x8298: if readsText { dir.copyright = text() }
            case 0x013B: if readsText { dir.artist = text() }
            case 0x0100: dir.imageWidth = integer()
            case 0x0101: dir.imageHeight = integer()
            case 0x0102: dir.bitsPerSample = integer()
            case 0x0115: dir.samplesPerPixel = integer()
            case 0x0106: dir.photometric = integer()
            default: break
            }
        }
        return dir
    }

    /// Parse an EXIF payload; accepts the "Exif\0\0" prefix used by JPEG APP1 and some WebP/PNG writers.
    static func parseEXIF(_ bytes: UnsafeRawBufferPointer, readsText: Bool = true) -> TIFFDirectory? {
        var b = bytes
        if b.count >= 6, b[0] == 0x45, b[1] == 0x78, b[2] == 0x69, b[3] == 0x66, b[4] == 0, b[5] == 0 {
            b = UnsafeRawBufferPointer(rebasing: b[6...])
        }
        return try? parse(b, readsText: readsText)
    }

    var rights: EmbeddedRights {
        var r = EmbeddedRights()
        r.exifCopyright = copyright
        r.exifArtist = artist
        return r
    }
}
