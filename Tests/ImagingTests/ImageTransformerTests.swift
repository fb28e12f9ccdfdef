import Foundation
import Imaging
import Testing
import _DSBuildTestSupport

@Suite struct ImageTransformerTests {
    func realJPEG() throws -> Data {
        let items = try KViscuitFixture.type1Items()
        let item = try #require(items.first { $0.imagePath.hasSuffix(".jpg") && FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path) })
        return try Data(contentsOf: TestPaths.kViscuitImages.appendingPathComponent(item.imagePath))
    }

    @Test(arguments: ImageTransformRequest.Mode.allCases)
    func everyModeProducesADecodableImageOfTheRequestedSize(mode: ImageTransformRequest.Mode) throws {
        let input = try realJPEG()
        let source = try ImageProber.probe(data: input)
        let out = try ImageTransformer().transform(input, format: "jpeg", request: .init(mode: mode, size: 224, quality: 85))
        let probe = try ImageProber.probe(data: out.data)
        #expect(probe.format == .jpeg)
        #expect(probe.width == out.width && probe.height == out.height)
        switch mode {
        case .keepRatio:
            #expect(max(out.width, out.height) == 224)
            let ratio = Double(source.displayWidth) / Double(source.displayHeight)
            #expect(abs(Double(out.width) / Double(out.height) - ratio) < 0.02)
        case .centerCrop, .border:
            #expect(out.width == 224 && out.height == 224)
        }
        #expect(out.data.count < input.count)
    }

    @Test func orientationIsAppliedSoTheOutputIsUpright() throws {
        // A 40×20 JPEG tagged orientation 6 is displayed 20×40; keep_ratio to 40 must give 20×40.
        var pixels: [UInt8] = []
        for i in 0..<(40 * 20) {
            pixels += [UInt8(i % 40 * 6), UInt8(i / 40 * 12), 128]
        }
        let plain = try ImageEncoder.jpeg(DecodedImage(width: 40, height: 20, channels: 3, pixels: pixels), quality: 90)
        let image = ImageFactory.insertAfterSOI(plain, [ImageFactory.exifAPP1(orientation: 6)])
        #expect(try ImageProber.probe(data: image).displayWidth == 20)
        let out = try ImageTransformer().transform(image, format: "jpeg", request: .init(mode: .keepRatio, size: 40, quality: 90))
        #expect(out.width == 20 && out.height == 40)
        #expect(try ImageProber.probe(data: out.data).orientation == 1)
    }

    @Test func renderFlattensAlphaOntoTheBackgroundForJPEGAndKeepsItForPNG() throws {
        // Left half transparent red, right half opaque blue.
        var px: [UInt8] = []
        for _ in 0..<8 { for x in 0..<16 { px += x < 8 ? [255, 0, 0, 0] : [0, 0, 255, 255] } }
        let png = ImageFactory.png(width: 16, height: 8, channels: 4, pixels: px)
        let jpeg = try ImageTransformer().render(png, format: "png", request: .init(format: .jpeg, quality: 95, background: RGBColor(hex: "#00ff00")!))
        #expect(jpeg.format == "jpg" && jpeg.width == 16 && jpeg.height == 8)
        let decoded = try ImageDecoder.decode(data: jpeg.data)
        #expect(decoded.channels == 3)
        let left = Array(decoded.pixels[(4 * 16 + 2) * 3..<(4 * 16 + 2) * 3 + 3])
        let right = Array(decoded.pixels[(4 * 16 + 13) * 3..<(4 * 16 + 13) * 3 + 3])
        #expect(left[1] > 200 && left[0] < 60 && left[2] < 60, "transparent pixels take the background: \(left)")
        #expect(right[2] > 200 && right[1] < 60, "opaque pixels keep their colour: \(right)")
        let kept = try ImageTransformer().render(png, format: "png", request: .init(format: .png))
        let rgba = try ImageDecoder.decode(data: kept.data)
        #expect(kept.format == "png" && rgba.channels == 4 && rgba.pixels[3] == 0)
    }

    @Test func renderKeepsGreyscaleAndRotatesWithoutResizing() throws {
        let grey = ImageFactory.blockJPEG(width: 32, height: 16, components: 1, orientation: 8) { bx, _ in [bx < 2 ? 20 : 230] }
        let out = try ImageTransformer().render(grey, format: "jpg", request: .init(format: .jpeg))
        #expect(out.width == 16 && out.height == 32)
        let decoded = try ImageDecoder.decode(data: out.data)
        #expect(decoded.channels == 1)
        // Orientation 8: the stored left (dark) side is at the bottom.
        #expect(decoded.pixels[2 * 16 + 8] > 200 && decoded.pixels[29 * 16 + 8] < 60)
        #expect(try ImageProber.probe(data: out.data).orientation == 1)
    }

    @Test func downscalerSendsUprightSmallImagesUnchangedAndRotatesTheOthers() throws {
        let upright = ImageFactory.blockJPEG(width: 64, height: 32) { bx, _ in [UInt8(bx * 30), 128, 128] }
        let same = try ImageDownscaler().downscale(upright, mimeType: "image/jpeg", maxSide: 64)
        #expect(same.data == upright && same.mimeType == "image/jpeg")
        let rotated = ImageFactory.blockJPEG(width: 64, height: 32, orientation: 6) { bx, _ in [UInt8(bx * 30), 128, 128] }
        let small = try ImageDownscaler().downscale(rotated, mimeType: "image/jpeg", maxSide: 256)
        let probe = try ImageProber.probe(data: small.data)
        #expect(probe.width == 32 && probe.height == 64 && probe.orientation == 1)
        let large = try ImageDownscaler().downscale(rotated, mimeType: "image/jpeg", maxSide: 32)
        let scaled = try ImageProber.probe(data: large.data)
        #expect(scaled.width == 16 && scaled.height == 32 && scaled.orientation == 1)
        // Plain decodable test images: the factory's WebP and PNG decode with the real codecs.
        let webp = ImageFactory.webpLossless(width: 24, height: 16) { x, _ in (x < 12, x < 12, x < 12) }
        let decoded = try ImageDecoder.decode(data: webp)
        #expect(decoded.width == 24 && decoded.height == 16 && decoded.pixels[0] == 230 && decoded.pixels[(24 - 1) * decoded.channels] == 20)
    }

    @Test func garbageIsAClearError() {
        #expect(throws: (any Error).self) {
            _ = try ImageTransformer().transform(Data("<html>".utf8), format: "jpeg", request: .init(mode: .keepRatio, size: 64, quality: 80))
        }
    }
}
