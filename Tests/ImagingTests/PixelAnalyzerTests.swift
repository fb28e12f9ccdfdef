import Foundation
import Imaging
import Testing
import _DSBuildTestSupport

/// The integrity decode doubles as the exact pHash for JPEGs, so a filter run decodes each JPEG once.
@Suite struct VerifyAndHashTests {
    @Test func jpegVerificationYieldsTheExactHashOtherFormatsDoNot() throws {
        let tmp = TemporaryDirectory()
        let analyzer = PixelAnalyzer()
        let names = try FileManager.default.contentsOfDirectory(atPath: TestPaths.kViscuitImages.path).sorted()
        for name in names.filter({ $0.hasSuffix(".jpg") }).prefix(12) {
            let url = TestPaths.kViscuitImages.appendingPathComponent(name)
            let hash = try analyzer.verifyDecodesAndHash(fileAt: url, maxPixels: 1 << 28)
            #expect(hash == (try analyzer.perceptualHash(fileAt: url, mode: .exact)), "\(name)")
        }
        let png = try #require(names.first { $0.hasSuffix(".png") })
        #expect(try analyzer.verifyDecodesAndHash(fileAt: TestPaths.kViscuitImages.appendingPathComponent(png), maxPixels: 1 << 28) == nil)

        // CMYK JPEGs take the full decoder: verified, no hash by-product.
        var samples = [UInt8]()
        for y in 0..<40 { for x in 0..<48 { samples += [UInt8(x * 5), UInt8(y * 6), UInt8((x + y) * 2), UInt8((x * y) % 200)] } }
        let cmyk = tmp.path("cmyk.jpg")
        try ImageEncoder.jpegCMYK(samples: samples, width: 48, height: 40).write(to: cmyk)
        #expect(try analyzer.verifyDecodesAndHash(fileAt: cmyk, maxPixels: 1 << 28) == nil)

        // Truncated and oversized JPEGs fail verification exactly as the full decode does.
        let jpeg = try ImageEncoder.jpeg(DecodedImage(width: 300, height: 200, channels: 3, pixels: ImageFactory.pattern(width: 300, height: 200, seed: 1)))
        let cut = tmp.path("cut.jpg")
        try jpeg.prefix(jpeg.count / 2).write(to: cut)
        #expect(throws: DecodeError.self) { try analyzer.verifyDecodesAndHash(fileAt: cut, maxPixels: 1 << 28) }
        #expect(throws: DecodeError.self) { try analyzer.verifyDecodes(fileAt: cut, maxPixels: 1 << 28) }
        let whole = tmp.path("whole.jpg")
        try jpeg.write(to: whole)
        #expect(throws: DecodeError.tooLarge(width: 300, height: 200, maxPixels: 10_000)) {
            try analyzer.verifyDecodesAndHash(fileAt: whole, maxPixels: 10_000)
        }
    }
}
