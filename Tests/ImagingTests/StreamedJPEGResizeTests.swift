import Foundation
import Testing
import _DSBuildTestSupport
@testable import Imaging

/// The streamed JPEG path (decode → luma → resample per scanline, in C) must give exactly what decoding the
/// whole image and resizing it in Swift gives, for every shape the resampler treats differently.
@Suite struct StreamedJPEGResizeTests {
    func reference(_ data: Data, _ w: Int, _ h: Int, minSide: Int? = nil) throws -> [UInt8] {
        let luma = try data.withUnsafeBytes { try ImageDecoder.decodeLuma(bytes: $0, reducedMinSide: minSide) }
        return Resampler.resize(luma, width: w, height: h, filter: .lanczos).pixels
    }

    func streamed(_ data: Data, _ w: Int, _ h: Int, minSide: Int = 0) throws -> [UInt8]? {
        try data.withUnsafeBytes {
            try StreamedJPEGResize.luma(bytes: $0, width: w, height: h, filter: .lanczos,
                                        maxPixels: ImageDecoder.defaultMaxPixels, strict: true, minSide: minSide)
        }
    }

    /// Wide, tall, smaller than the target (upsampling), exactly 32 on one side (that pass is skipped),
    /// progressive and grayscale JPEGs.
    @Test(arguments: [(300, 200, false), (97, 411, false), (20, 12, false), (32, 150, false), (150, 32, false),
                      (32, 32, false), (640, 480, true), (1, 1, false)])
    func equalsDecodeThenResize(w: Int, h: Int, progressive: Bool) throws {
        let data = try ImageEncoder.jpeg(rgbImage(w, h, seed: w &* 7 &+ h), quality: 85, progressive: progressive)
        #expect(try streamed(data, 32, 32) == (try reference(data, 32, 32)))
        #expect(try streamed(data, 17, 45) == (try reference(data, 17, 45)))
    }

    @Test func grayscaleJPEG() throws {
        let img = rgbImage(123, 77, seed: 3)
        let gray = DecodedImage(width: 123, height: 77, channels: 1, pixels: img.luma().pixels)
        let data = try ImageEncoder.jpeg(gray)
        #expect(try streamed(data, 32, 32) == (try reference(data, 32, 32)))
    }

    /// The approximate mode scales in the DCT first; the streamed and whole-image paths still agree.
    @Test func dctScaledModeAgrees() throws {
        let data = try ImageEncoder.jpeg(rgbImage(1200, 900, seed: 9))
        #expect(try streamed(data, 32, 32, minSide: 128) == (try reference(data, 32, 32, minSide: 128)))
    }

    /// CMYK goes through Pillow's cmyk→rgb in the whole-image decoder: the stream declines it.
    @Test func cmykIsDeclined() throws {
        var samples = [UInt8]()
        for y in 0..<40 { for x in 0..<48 { samples += [UInt8(x * 5), UInt8(y * 6), UInt8((x + y) * 2), UInt8((x * y) % 200)] } }
        let data = try ImageEncoder.jpegCMYK(samples: samples, width: 48, height: 40)
        #expect(try streamed(data, 32, 32) == nil)
        // …and the hash still comes out, from the whole-image path.
        #expect(try PerceptualHash.compute(data: data) == PerceptualHash.compute(image: try ImageDecoder.decode(data: data)))
    }

    @Test func truncatedCorruptAndOversizedAreTypedErrors() throws {
        let data = try ImageEncoder.jpeg(rgbImage(200, 160))
        #expect {
            try streamed(data.prefix(data.count * 2 / 3), 32, 32)
        } throws: { error in
            guard case DecodeError.truncated(.jpeg, _) = error else { return false }
            return true
        }
        var corrupt = Array(data)
        let sof = corrupt.indices.first { corrupt[$0] == 0xFF && corrupt[$0 + 1] == 0xC0 }!
        corrupt[sof + 9] = 7  // 7 components
        #expect(throws: DecodeError.self) { try streamed(Data(corrupt), 32, 32) }
        #expect(throws: DecodeError.tooLarge(width: 200, height: 160, maxPixels: 1000)) {
            try data.withUnsafeBytes {
                try StreamedJPEGResize.luma(bytes: $0, width: 32, height: 32, filter: .lanczos, maxPixels: 1000, strict: true)
            }
        }
    }
}
