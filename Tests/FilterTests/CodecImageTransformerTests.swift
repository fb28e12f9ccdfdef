import Dataset
import Filter
import Foundation
import Testing
import _DSBuildTestSupport

@Suite struct CodecImageTransformerTests {
    func realJPEG() throws -> Data {
        let items = try KViscuitFixture.type1Items()
        let item = try #require(items.first { $0.imagePath.hasSuffix(".jpg") && FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path) })
        return try Data(contentsOf: TestPaths.kViscuitImages.appendingPathComponent(item.imagePath))
    }

    @Test(arguments: ImageTransformRequest.Mode.allCases)
    func everyModeProducesADecodableImageOfTheRequestedSize(mode: ImageTransformRequest.Mode) throws {
        let input = try realJPEG()
        let source = try CodecImageProber().probe(data: input)
        let out = try CodecImageTransformer().transform(input, format: "jpeg", request: .init(mode: mode, size: 224, quality: 85))
        let probe = try CodecImageProber().probe(data: out.data)
        #expect(probe.format == "jpeg")
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
        #expect(try CodecImageProber().probe(data: image).displayWidth == 20)
        let out = try CodecImageTransformer().transform(image, format: "jpeg", request: .init(mode: .keepRatio, size: 40, quality: 90))
        #expect(out.width == 20 && out.height == 40)
        #expect(try CodecImageProber().probe(data: out.data).orientation == 1)
    }

    @Test func garbageIsAClearError() {
        #expect(throws: (any Error).self) {
            _ = try CodecImageTransformer().transform(Data("<html>".utf8), format: "jpeg", request: .init(mode: .keepRatio, size: 64, quality: 80))
        }
    }
}
