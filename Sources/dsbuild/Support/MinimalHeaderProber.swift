import Dataset
import Foundation

/// Reads width and height from JPEG (SOFn), PNG (IHDR), GIF and WebP (VP8/VP8L/VP8X) headers. A stand-in until the
/// Filter module's full prober (EXIF orientation, rights metadata, more formats) is wired here.
struct MinimalHeaderProber: ImageProbing {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    func probe(fileAt url: URL) throws -> ProbedImage {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        // The frame header usually sits in the first 256 KiB (after EXIF/ICC segments); read more only when not.
        let head = try handle.read(upToCount: 256 << 10) ?? Data()
        if let image = try? probe(data: head) { return image }
        return try probe(data: head + (try handle.readToEnd() ?? Data()))
    }

    func probe(data: Data) throws -> ProbedImage {
        let b = [UInt8](data)
        guard let format = ImageMagic.format(of: b) else {
            throw Failure(description: "not an image (\(ImageMagic.describeNonImage(b)))")
        }
        func be16(_ i: Int) -> Int { Int(b[i]) << 8 | Int(b[i + 1]) }
        func le16(_ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
        func be32(_ i: Int) -> Int { be16(i) << 16 | be16(i + 2) }
        func image(_ w: Int, _ h: Int) throws -> ProbedImage {
            guard w > 0, h > 0 else { throw Failure(description: "\(format) header gives a size of \(w)×\(h)") }
            return ProbedImage(format: format, width: w, height: h, displayWidth: w, displayHeight: h)
        }
        switch format {
        case "png":
            guard b.count >= 24 else { throw Failure(description: "truncated PNG header") }
            return try image(be32(16), be32(20))
        case "gif":
            guard b.count >= 10 else { throw Failure(description: "truncated GIF header") }
            return try image(le16(6), le16(8))
        case "webp":
            guard b.count >= 30 else { throw Failure(description: "truncated WebP header") }
            let chunk = String(decoding: b[12..<16], as: UTF8.self)
            switch chunk {
            case "VP8 ": return try image(le16(26) & 0x3FFF, le16(28) & 0x3FFF)
            case "VP8L":
                let bits = Int(b[21]) | Int(b[22]) << 8 | Int(b[23]) << 16 | Int(b[24]) << 24
                return try image((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
            default:
                return try image((Int(b[24]) | Int(b[25]) << 8 | Int(b[26]) << 16) + 1, (Int(b[27]) | Int(b[28]) << 8 | Int(b[29]) << 16) + 1)
            }
        case "jpeg":
            var i = 2
            while i + 9 < b.count {
                guard b[i] == 0xFF else { throw Failure(description: "corrupt JPEG marker at byte \(i)") }
                let marker = b[i + 1]
                if marker == 0xFF { i += 1; continue }
                if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                    return try image(be16(i + 7), be16(i + 5))
                }
                if marker == 0xD8 || (0xD0...0xD7).contains(marker) { i += 2; continue }
                i += 2 + be16(i + 2)
            }
            throw Failure(description: "no JPEG frame header (SOF) found")
        default:
            throw Failure(description: "\(format) is not probed by this build")
        }
    }
}
