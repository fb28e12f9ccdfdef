import Dataset
import Foundation

/// A minimal prober for tests (JPEG SOFn and PNG IHDR sizes); the Filter module owns the real one.
struct TestProber: ImageProbing {
    struct Failure: Error, CustomStringConvertible { let description: String }

    func probe(fileAt url: URL) throws -> ProbedImage { try probe(data: try Data(contentsOf: url)) }

    func probe(data: Data) throws -> ProbedImage {
        let b = [UInt8](data)
        func be16(_ i: Int) -> Int { Int(b[i]) << 8 | Int(b[i + 1]) }
        switch ImageMagic.format(of: b) {
        case "png" where b.count >= 24:
            let w = be16(16) << 16 | be16(18), h = be16(20) << 16 | be16(22)
            return ProbedImage(format: "png", width: w, height: h, displayWidth: w, displayHeight: h)
        case "jpeg":
            var i = 2
            while i + 9 < b.count, b[i] == 0xFF {
                let marker = b[i + 1]
                if (0xC0...0xCF).contains(marker) && ![0xC4, 0xC8, 0xCC].contains(marker) {
                    return ProbedImage(format: "jpeg", width: be16(i + 7), height: be16(i + 5), displayWidth: be16(i + 7), displayHeight: be16(i + 5))
                }
                i += 2 + be16(i + 2)
            }
            throw Failure(description: "no JPEG frame header")
        default:
            throw Failure(description: "not a JPEG or PNG")
        }
    }
}
