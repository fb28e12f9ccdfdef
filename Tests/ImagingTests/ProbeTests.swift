import Foundation
import Testing
import _DSBuildTestSupport
@testable import Imaging

typealias F = ImageFactory

func probe(_ data: Data) throws -> ImageProbe { try ImageProber.probe(data: data) }

func probeError(_ data: Data) -> ProbeError? {
    do { _ = try ImageProber.probe(data: data); return nil } catch { return error }
}

func rgbImage(_ w: Int, _ h: Int, seed: Int = 0) -> DecodedImage {
    DecodedImage(width: w, height: h, channels: 3, pixels: F.pattern(width: w, height: h, seed: seed))
}

@Suite struct JPEGProbeTests {
    /// Every SOF kind: size, precision and coding flags from the header alone.
    @Test(arguments: [0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF] as [UInt8])
    func everySOFKindGivesSizeAndCoding(marker: UInt8) throws {
        let p = try probe(F.jpegHeader(sofMarker: marker, width: 640, height: 480))
        #expect(p.format == .jpeg)
        #expect(p.width == 640 && p.height == 480)
        #expect(p.jpegSOF == marker)
        #expect(p.progressive == [0xC2, 0xC6, 0xCA, 0xCE].contains(marker))
        #expect(p.arithmetic == ((0xC9...0xCB).contains(marker) || (0xCD...0xCF).contains(marker)))
        #expect(p.lossless == [0xC3, 0xC7, 0xCB, 0xCF].contains(marker))
        #expect(p.colorModel == .ycbcr && p.components == 3)
    }

    @Test func twelveBitPrecisionIsReported() throws {
        let p = try probe(F.jpegHeader(sofMarker: 0xC1, precision: 12, width: 100, height: 50))
        #expect(p.bitDepth == 12)
    }

    @Test func cmykAndYCCKFromAdobeMarker() throws {
        let cmyk = try probe(F.jpegHeader(width: 10, height: 10, components: 4, segments: [F.adobeAPP14(transform: 0)]))
        #expect(cmyk.colorModel == .cmyk && cmyk.components == 4)
        let ycck = try probe(F.jpegHeader(width: 10, height: 10, components: 4, segments: [F.adobeAPP14(transform: 2)]))
        #expect(ycck.colorModel == .ycck)
        let rgb = try probe(F.jpegHeader(width: 10, height: 10, components: 3, segments: [F.adobeAPP14(transform: 0)]))
        #expect(rgb.colorModel == .rgb)
        let gray = try probe(F.jpegHeader(width: 10, height: 10, components: 1))
        #expect(gray.colorModel == .gray)
    }

    @Test func realProgressiveJPEGFromEncoder() throws {
        let data = try ImageEncoder.jpeg(rgbImage(64, 48), quality: 80, progressive: true)
        let p = try probe(data)
        #expect(p.progressive && p.width == 64 && p.height == 48 && p.jpegSOF == 0xC2)
    }

    /// EXIF orientation 1–8 on a 40×20 image: 5–8 swap the display size (as Pillow's exif_transpose).
    @Test(arguments: 1...8)
    func exifOrientationSetsDisplaySize(orientation: Int) throws {
        let base = try ImageEncoder.jpeg(rgbImage(40, 20))
        for bigEndian in [false, true] {
            let data = F.insertAfterSOI(base, [F.exifAPP1(orientation: orientation, bigEndian: bigEndian)])
            let p = try probe(data)
            #expect(p.orientation == orientation)
            #expect(p.width == 40 && p.height == 20)
            let swapped = orientation >= 5
            #expect(p.displayWidth == (swapped ? 20 : 40) && p.displayHeight == (swapped ? 40 : 20))
            // Decoding and applying the orientation gives the same display size.
            let upright = try ImageDecoder.decode(data: data).applyingOrientation(p.orientation)
            #expect(upright.width == p.displayWidth && upright.height == p.displayHeight)
        }
    }

    @Test func outOfRangeOrientationFallsBackToOne() throws {
        let p = try probe(F.jpegHeader(width: 40, height: 20, segments: [F.exifAPP1(orientation: 9)]))
        #expect(p.orientation == 1 && p.displayWidth == 40)
    }

    @Test func gigapixelHeaderIsReportedNotAllocated() throws {
        let p = try probe(F.jpegHeader(width: 65000, height: 65000))
        #expect(p.width == 65000 && p.height == 65000 && p.pixelCount == 65000 * 65000)
        #expect(throws: DecodeError.tooLarge(width: 65000, height: 65000, maxPixels: 100_000_000)) {
            try ImageDecoder.decode(data: F.jpegHeader(width: 65000, height: 65000), maxPixels: 100_000_000)
        }
    }

    @Test func truncatedBeforeScanIsTruncated() throws {
        let full = try ImageEncoder.jpeg(rgbImage(32, 32))
        // Cut inside the header segments (before SOS).
        let sosAt = Array(full).indices.first { full[$0] == 0xFF && full[$0 + 1] == 0xDA }!
        for cut in [2, 3, 20, sosAt - 5, sosAt + 1] {
            #expect(probeError(full.prefix(cut)) == .truncated(.jpeg), "cut at \(cut)")
        }
        #expect(probeError(Data([0xFF, 0xD8])) == .truncated(.jpeg))
    }

    @Test func garbageWhereAMarkerShouldBeIsCorrupt() {
        let data = Data([0xFF, 0xD8, 0x12, 0x34, 0x56])
        guard case .corrupt(.jpeg, _)? = probeError(data) else { Issue.record("expected corrupt"); return }
    }
}

@Suite struct PNGProbeTests {
    @Test func basicRGBA() throws {
        let p = try probe(F.pngHeader(width: 300, height: 200, colorType: 6))
        #expect(p.format == .png && p.width == 300 && p.height == 200 && p.colorModel == .rgba && p.hasAlpha)
        #expect(!p.animated && p.frameCount == 1 && p.bitDepth == 8 && !p.interlaced)
    }

    @Test func realInterlacedAnd16BitPNGs() throws {
        let img = rgbImage(33, 17)
        let interlaced = try probe(ImageEncoder.png(img, interlaced: true))
        #expect(interlaced.interlaced && interlaced.width == 33 && interlaced.height == 17)
        let samples16 = img.pixels.flatMap { [$0, UInt8(0x80)] }
        let sixteen = try probe(ImageEncoder.png(samples: samples16, width: 33, height: 17, channels: 3, bitDepth: 16))
        #expect(sixteen.bitDepth == 16 && sixteen.colorModel == .rgb)
    }

    @Test func apngWithACTLIsAnimated() throws {
        let data = F.insertAfterIHDR(try ImageEncoder.png(rgbImage(8, 8)), [F.acTL(frames: 5)])
        let p = try probe(data)
        #expect(p.animated && p.frameCount == 5)
        let single = try probe(F.pngHeader(width: 8, height: 8, chunks: [F.acTL(frames: 1)]))
        #expect(!single.animated && single.frameCount == 1)
    }

    @Test func ihdrCRCMismatchIsCorrupt() throws {
        var b = Array(F.pngHeader(width: 10, height: 10))
        b[20] ^= 0x01  // inside IHDR height
        #expect(probeError(Data(b)) == .corrupt(.png, "IHDR CRC mismatch"))
    }

    @Test func ancillaryChunkCRCMismatchIsCorrupt() throws {
        var b = Array(F.pngHeader(width: 10, height: 10, chunks: [F.acTL(frames: 2)]))
        b[33 + 8] ^= 0xFF
        #expect(probeError(Data(b)) == .corrupt(.png, "acTL chunk CRC mismatch"))
    }

    @Test func invalidBitDepthIsCorrupt() {
        guard case .corrupt(.png, let detail)? = probeError(F.pngHeader(width: 1, height: 1, bitDepth: 16, colorType: 3)) else {
            Issue.record("expected corrupt"); return
        }
        #expect(detail.contains("bit depth"))
    }

    @Test func truncatedBeforeIDAT() throws {
        let full = F.pngHeader(width: 10, height: 10, chunks: [F.acTL(frames: 2)])
        for cut in [4, 8, 20, 33, 40] { #expect(probeError(full.prefix(cut)) == .truncated(.png), "cut at \(cut)") }
    }

    @Test func gigapixelIHDRIsReported() throws {
        let data = F.pngHeader(width: 100_000, height: 100_000)
        let p = try probe(data)
        #expect(p.width == 100_000 && p.height == 100_000)
        #expect(throws: DecodeError.tooLarge(width: 100_000, height: 100_000, maxPixels: ImageDecoder.defaultMaxPixels)) {
            try ImageDecoder.decode(data: data)
        }
    }

    @Test func exifChunkOrientation() throws {
        let p = try probe(F.pngHeader(width: 30, height: 10, chunks: [F.pngChunk("eXIf", F.exifTIFF(orientation: 6))]))
        #expect(p.orientation == 6 && p.displayWidth == 10 && p.displayHeight == 30)
    }
}

@Suite struct OtherFormatProbeTests {
    @Test func gifSingleAndAnimated() throws {
        let one = try probe(F.gif(width: 7, height: 5))
        #expect(one.format == .gif && one.width == 7 && one.height == 5 && !one.animated && one.frameCount == 1)
        let anim = try probe(F.gif(width: 7, height: 5, frames: 3))
        #expect(anim.animated && anim.frameCount == 3)
    }

    @Test func gifTruncated() {
        let full = F.gif(width: 7, height: 5)
        #expect(probeError(full.prefix(10)) == .truncated(.gif))
        #expect(probeError(full.prefix(40)) == .truncated(.gif))
    }

    @Test func webpLossyLosslessExtended() throws {
        let lossy = try probe(F.webpLossyHeader(width: 1000, height: 700))
        #expect(lossy.format == .webp && lossy.width == 1000 && lossy.height == 700 && !lossy.lossless)
        let lossless = try probe(F.webpLosslessHeader(width: 16383, height: 3, alpha: true))
        #expect(lossless.width == 16383 && lossless.height == 3 && lossless.lossless && lossless.hasAlpha)
        let extended = try probe(F.webpExtended(width: 5000, height: 4000, alpha: true))
        #expect(extended.width == 5000 && extended.height == 4000 && extended.hasAlpha && !extended.animated)
    }

    @Test func webpAnimated() throws {
        let p = try probe(F.webpExtended(width: 20, height: 10, frames: 4))
        #expect(p.animated && p.frameCount == 4)
    }

    @Test func webpExifOrientationAndXMP() throws {
        let p = try probe(F.webpExtended(width: 20, height: 10, exif: F.exifTIFF(orientation: 8, artist: "A. Artist"),
                                         xmp: F.prohibitedXMP))
        #expect(p.orientation == 8 && p.displayWidth == 10 && p.displayHeight == 20)
        #expect(p.rights.exifArtist == "A. Artist")
        #expect(p.rights.dataMiningProhibited == true)
    }

    @Test func realWebPFromEncoder() throws {
        let data = try ImageEncoder.webp(rgbImage(50, 30), quality: 80)
        let p = try probe(data)
        #expect(p.width == 50 && p.height == 30)
        let lossless = try probe(ImageEncoder.webp(rgbImage(50, 30), lossless: true))
        #expect(lossless.lossless && lossless.width == 50)
    }

    @Test func webpTruncated() {
        #expect(probeError(F.webpLossyHeader(width: 10, height: 10).prefix(16)) == .truncated(.webp))
        #expect(probeError(F.webpLossyHeader(width: 10, height: 10).prefix(24)) == .truncated(.webp))
    }

    @Test func bmpBottomUpAndTopDown() throws {
        let rgb = F.pattern(width: 5, height: 3)
        let up = try probe(F.bmp24(width: 5, height: 3, rgb: rgb))
        #expect(up.format == .bmp && up.width == 5 && up.height == 3 && up.bitDepth == 24)
        let down = try probe(F.bmp24(width: 5, height: 3, topDown: true, rgb: rgb))
        #expect(down.width == 5 && down.height == 3)
        #expect(probeError(F.bmp24(width: 5, height: 3, rgb: rgb).prefix(20)) == .truncated(.bmp))
    }

    @Test func avifAndHeifByBrand() throws {
        let avif = try probe(F.isobmff(brand: "avif", compatible: ["mif1", "avif"], width: 1920, height: 1080))
        #expect(avif.format == .avif && avif.width == 1920 && avif.height == 1080)
        let heic = try probe(F.isobmff(brand: "heic", compatible: ["mif1", "heic"], width: 4032, height: 3024))
        #expect(heic.format == .heif && heic.width == 4032)
        guard case .notAnImage(let what)? = probeError(F.isobmff(brand: "isom", compatible: ["mp41"], width: 1, height: 1)) else {
            Issue.record("mp4 should not be an image"); return
        }
        #expect(what.contains("video"))
    }

    @Test func tiffHeader() throws {
        let p = try probe(F.tiffFile(width: 300, height: 200, orientation: 6))
        #expect(p.format == .tiff && p.width == 300 && p.height == 200 && p.orientation == 6 && p.displayWidth == 200)
    }
}

@Suite struct NotAnImageTests {
    @Test func zeroBytes() {
        #expect(probeError(Data()) == .notAnImage("empty file (0 bytes)"))
    }

    @Test func htmlNamedJPG() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("filter-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("photo.jpg")
        try Data("\n  <!DOCTYPE html><html><head><title>403 Forbidden</title></head></html>".utf8).write(to: file)
        do {
            _ = try ImageProber.probe(fileAt: file)
            Issue.record("HTML probed as an image")
        } catch {
            guard case .notAnImage(let what) = error else { Issue.record("wrong error \(error)"); return }
            #expect(what.contains("HTML"))
            #expect(error.description.hasPrefix("not an image: looks like HTML"))
        }
        #expect(throws: DecodeError.self) { try ImageDecoder.decode(fileAt: file) }
    }

    @Test func jsonAndUnknown() {
        guard case .notAnImage(let json)? = probeError(Data(#"{"error":"rate limited"}"#.utf8)) else { Issue.record(); return }
        #expect(json.contains("JSON"))
        guard case .notAnImage(let unknown)? = probeError(Data([0x00, 0x01, 0x02, 0x03])) else { Issue.record(); return }
        #expect(unknown.contains("00 01 02 03"))
    }

    @Test func missingFileIsUnreadable() {
        do {
            _ = try ImageProber.probe(fileAt: URL(fileURLWithPath: "/nonexistent/x.jpg"))
            Issue.record("expected an error")
        } catch {
            #expect(error.code == "unreadable")
        }
    }
}
