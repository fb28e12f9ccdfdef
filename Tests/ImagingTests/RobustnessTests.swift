import Foundation
import Testing
import _DSBuildTestSupport
@testable import Imaging

/// Hostile input: every prefix and many random byte flips of real files in each format must make the
/// prober and decoder either succeed or throw — never trap, hang or allocate past maxPixels.
@Suite struct RobustnessTests {
    static func corpus() throws -> [(String, Data)] {
        let img = rgbImage(24, 16)
        let jpegWithMetadata = F.insertAfterSOI(try ImageEncoder.jpeg(img, progressive: true), [
            F.exifAPP1(orientation: 6, copyright: "C", artist: "A"), F.xmpAPP1(F.istockXMP),
            F.iptcAPP13([(80, "B"), (110, "Credit")]),
        ])
        return [
            ("jpeg", jpegWithMetadata),
            ("png", F.insertAfterIHDR(try ImageEncoder.png(img, interlaced: true), [F.acTL(frames: 2), F.xmpITXt(F.prohibitedXMP)])),
            ("gif", F.gif(width: 9, height: 7, frames: 2)),
            ("webp", try ImageEncoder.webp(img, quality: 70)),
            ("webp-ext", F.webpExtended(width: 20, height: 10, frames: 2, exif: F.exifTIFF(orientation: 3), xmp: F.istockXMP)),
            ("bmp", F.bmp24(width: 5, height: 3, rgb: F.pattern(width: 5, height: 3))),
            ("avif", F.isobmff(brand: "avif", compatible: ["mif1"], width: 64, height: 32)),
            ("tiff", F.tiffFile(width: 30, height: 20)),
        ]
    }

    /// xorshift64*, seeded, so a failure reproduces.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state >> 12; state ^= state << 25; state ^= state >> 27
            return state &* 2_685_821_657_736_338_717
        }
    }

    @Test(arguments: Array(1...5) as [UInt64])
    func prefixesAndBitFlipsNeverCrash(seed: UInt64) throws {
        var rng = SeededGenerator(state: 0x9E37_79B9_7F4A_7C15 &* seed)
        var checked = 0
        let dir = TemporaryDirectory("robustness")
        let file = dir.path("variant.bin")
        for (name, data) in try Self.corpus() {
            var variants: [Data] = stride(from: 0, to: data.count, by: max(1, data.count / 150)).map { data.prefix($0) }
            for _ in 0..<300 {
                var b = Array(data)
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                variants.append(Data(b))
            }
            for v in variants {
                let inMemory = Result { () throws(ProbeError) -> ImageProbe in try ImageProber.probe(data: v) }
                _ = try? ImageProber.probe(data: v, scope: .geometry)
                _ = try? ImageDecoder.decode(data: v, maxPixels: 1 << 20)
                _ = try? PerceptualHash.compute(data: v, maxPixels: 1 << 20)
                _ = try? PerceptualHash.compute(data: v, maxPixels: 1 << 20, mode: .fast(minSide: 8))
                // Reading the head of a file piece by piece decides exactly as probing all of it in memory.
                try v.write(to: file)
                let fromFile = Result { () throws(ProbeError) -> ImageProbe in try ImageProber.probe(fileAt: file) }
                #expect(fromFile == inMemory, "\(name): \(v.count) bytes")
                checked += 1
            }
        }
        #expect(checked > 1000)
    }
}
