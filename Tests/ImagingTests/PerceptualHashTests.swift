import Foundation
import Testing
import _DSBuildTestSupport
@testable import Imaging

/// Reference values computed by Fixtures/make_phash_reference.py (Pillow 11.3.0, imagehash 4.3.2).
struct Reference: Decodable {
    struct Entry: Decodable {
        var file: String
        var format: String
        var mode: String
        var width: Int
        var height: Int
        var display_width: Int
        var display_height: Int
        var phash: String
    }
    var images: [Entry]

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let imageDir = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/data/k-viscuit/images")

    static func load() throws -> Reference {
        let data = try Data(contentsOf: fixtures.appendingPathComponent("phash_reference.json"))
        return try JSONDecoder().decode(Reference.self, from: data)
    }
}

@Suite struct PerceptualHashTests {
    @Test func hexAndDistance() throws {
        let a = try #require(PerceptualHash(hex: "c3e0f0f8f0e0c080"))
        #expect(a.hex == "c3e0f0f8f0e0c080")
        #expect(PerceptualHash(value: 1).hex == "0000000000000001")
        #expect(a.distance(to: PerceptualHash(value: a.value ^ 0b1011)) == 3)
        #expect(a - a == 0)
        #expect(PerceptualHash(hex: "xyz") == nil)
    }

    /// Every K-Viscuit image hashes bit-for-bit like `imagehash.phash(Image.open(path))`.
    @Test func matchesImagehashOnAllKViscuitImages() throws {
        let reference = try Reference.load()
        #expect(reference.images.count == 233)
        try #require(FileManager.default.fileExists(atPath: Reference.imageDir.path),
                     "shared K-Viscuit images missing at \(Reference.imageDir.path)")
        var mismatches: [String] = []
        for e in reference.images {
            let ours = try PerceptualHash.compute(fileAt: Reference.imageDir.appendingPathComponent(e.file))
            let theirs = try #require(PerceptualHash(hex: e.phash))
            if ours != theirs { mismatches.append("\(e.file): \(ours.hex) vs \(e.phash) (\(ours - theirs) bits)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches: \(mismatches.prefix(10))")
    }

    /// Stored and display sizes agree with Pillow's `.size` and `ImageOps.exif_transpose(...).size`.
    @Test func probeSizesMatchPillowOnAllKViscuitImages() throws {
        let reference = try Reference.load()
        var mismatches: [String] = []
        for e in reference.images {
            let p = try ImageProber.probe(fileAt: Reference.imageDir.appendingPathComponent(e.file))
            if p.format.rawValue != e.format.lowercased() || p.width != e.width || p.height != e.height
                || p.displayWidth != e.display_width || p.displayHeight != e.display_height
            {
                mismatches.append("\(e.file): \(p.format) \(p.width)x\(p.height)→\(p.displayWidth)x\(p.displayHeight)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches)")
        #expect(reference.images.contains { $0.width != $0.display_width })  // the corpus has rotated photos
    }

    /// The approximate mode (DCT-scaled JPEG decode) stays within a few bits of imagehash.
    /// Measured on K-Viscuit with minSide 128: 206 of 233 identical, mean 0.23 bits, max 2.
    @Test func fastModeStaysCloseToExact() throws {
        let reference = try Reference.load()
        var distances: [Int] = []
        for e in reference.images {
            let fast = try PerceptualHash.compute(fileAt: Reference.imageDir.appendingPathComponent(e.file), mode: .fast())
            distances.append(fast - (try #require(PerceptualHash(hex: e.phash))))
        }
        let mean = Double(distances.reduce(0, +)) / Double(distances.count)
        #expect(distances.max()! <= 4)
        #expect(mean <= 1.0)
    }

    @Test func reencodedImageIsCloseDifferentImageIsFar() throws {
        let img = rgbImage(200, 150)
        let a = PerceptualHash.compute(image: img)
        let b = try PerceptualHash.compute(data: ImageEncoder.jpeg(img, quality: 70))
        #expect(a - b <= 6)
        let other = PerceptualHash.compute(image: img.applyingOrientation(3))
        #expect(a - other > 10)
    }

    @Test func truncatedFileHasNoHash() throws {
        let data = try ImageEncoder.jpeg(rgbImage(100, 100))
        #expect(throws: DecodeError.self) { try PerceptualHash.compute(data: data.prefix(data.count / 2)) }
    }
}

@Suite struct PillowModeParityTests {
    /// Pillow opens 16-bit gray PNG as `I;16` and `convert("L")` clips at 255; the hash follows that,
    /// while ordinary decoding keeps the high byte. Expected hash from imagehash 4.3.2 / Pillow 11.3.0
    /// on the same file (`BenchFilter write-gray16`).
    @Test func gray16PNGHashesLikePillow() throws {
        var samples = [UInt8]()
        for i in 0..<(64 * 64) { let v = i * 16; samples += [UInt8(v >> 8), UInt8(v & 0xFF)] }
        let data = try ImageEncoder.png(samples: samples, width: 64, height: 64, channels: 1, bitDepth: 16)
        #expect(try PerceptualHash.compute(data: data).hex == "870f0f0f0f0f0f0f")
        let decoded = try ImageDecoder.decode(data: data)
        #expect(decoded.channels == 1 && decoded.pixels[64 * 10] == UInt8((64 * 10 * 16) >> 8))
    }
}
