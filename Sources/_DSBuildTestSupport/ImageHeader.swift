import Foundation

/// What a reader learns from an image's header without decoding it: format, stored size and EXIF orientation
/// (JPEG APP1 Exif, IFD0 tag 0x0112). Independent of the product's probe, so a test can check what was sent or
/// written: an image that still carries orientation 6 is shown sideways by every reader that ignores the tag.
public struct ImageHeader: Sendable, Equatable {
    public var format: String
    public var width: Int
    public var height: Int
    /// nil when the image has no orientation tag.
    public var orientation: Int?

    /// nil for bytes that are not a JPEG, PNG or WebP this reader understands.
    public static func read(_ data: Data) -> ImageHeader? {
        let b = [UInt8](data)
        if b.starts(with: [0xFF, 0xD8]) { return jpeg(b) }
        if b.starts(with: [0x89, 0x50, 0x4E, 0x47]), b.count >= 24 {
            return ImageHeader(format: "png", width: be(b, 16, 4), height: be(b, 20, 4), orientation: nil)
        }
        if b.count >= 30, b.starts(with: Array("RIFF".utf8)), Array(b[8..<12]) == Array("WEBP".utf8) {
            let chunk = String(decoding: b[12..<16], as: UTF8.self)
            if chunk == "VP8L" {
                let bits = Int(b[21]) | Int(b[22]) << 8 | Int(b[23]) << 16 | Int(b[24]) << 24
                return ImageHeader(format: "webp", width: (bits & 0x3FFF) + 1, height: ((bits >> 14) & 0x3FFF) + 1, orientation: nil)
            }
            if chunk == "VP8 " {
                return ImageHeader(format: "webp", width: (Int(b[26]) | Int(b[27]) << 8) & 0x3FFF, height: (Int(b[28]) | Int(b[29]) << 8) & 0x3FFF, orientation: nil)
            }
        }
        return nil
    }

    static func be(_ b: [UInt8], _ at: Int, _ n: Int) -> Int { (0..<n).reduce(0) { $0 << 8 | Int(b[at + $1]) } }

    static func jpeg(_ b: [UInt8]) -> ImageHeader? {
        var i = 2
        var orientation: Int?
        while i + 4 <= b.count {
            guard b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 || marker == 0xFF { i += marker == 0xFF ? 1 : 2; continue }
            let length = be(b, i + 2, 2)
            let body = i + 4
            if marker == 0xE1, body + 6 <= b.count, Array(b[body..<body + 6]) == [0x45, 0x78, 0x69, 0x66, 0, 0] {
                orientation = exifOrientation(Array(b[(body + 6)..<min(b.count, i + 2 + length)]))
            }
            if [0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF].contains(marker), body + 5 <= b.count {
                return ImageHeader(format: "jpeg", width: be(b, body + 3, 2), height: be(b, body + 1, 2), orientation: orientation)
            }
            if marker == 0xDA { return nil }
            i += 2 + length
        }
        return nil
    }

    /// IFD0's orientation (tag 0x0112) in a TIFF block, either byte order.
    static func exifOrientation(_ t: [UInt8]) -> Int? {
        guard t.count >= 8 else { return nil }
        let little = t[0] == 0x49
        func u16(_ at: Int) -> Int { little ? Int(t[at]) | Int(t[at + 1]) << 8 : Int(t[at]) << 8 | Int(t[at + 1]) }
        func u32(_ at: Int) -> Int { little ? u16(at) | u16(at + 2) << 16 : u16(at) << 16 | u16(at + 2) }
        let ifd = u32(4)
        guard ifd + 2 <= t.count else { return nil }
        for n in 0..<u16(ifd) {
            let entry = ifd + 2 + n * 12
            guard entry + 12 <= t.count else { return nil }
            if u16(entry) == 0x0112 { return u16(entry + 8) }
        }
        return nil
    }
}
