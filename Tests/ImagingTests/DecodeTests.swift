import Foundation
import Testing
import _DSBuildTestSupport
@testable import Imaging

func decodeError(_ data: Data, strict: Bool = true) -> DecodeError? {
    do { _ = try ImageDecoder.decode(data: data, strict: strict); return nil } catch { return error }
}

@Suite struct DecodeTests {
    @Test func jpegRoundTripColourAndGray() throws {
        let img = rgbImage(64, 40)
        let rgb = try ImageDecoder.decode(data: ImageEncoder.jpeg(img, quality: 95))
        #expect(rgb.width == 64 && rgb.height == 40 && rgb.channels == 3)
        let meanError = zip(rgb.pixels, img.pixels).map { abs(Int($0) - Int($1)) }.reduce(0, +) / img.pixels.count
        #expect(meanError < 8)
        let gray = try ImageDecoder.decode(data: ImageEncoder.jpeg(img.luma()))
        #expect(gray.channels == 1 && gray.width == 64)
    }

    /// libjpeg's "premature end of data" is only a warning; for integrity it must be an error.
    @Test func truncatedJPEGIsAnError() throws {
        let full = try ImageEncoder.jpeg(rgbImage(128, 128), quality: 90)
        let cut = full.prefix(full.count * 2 / 3)
        #expect(try probe(cut).width == 128)  // headers are intact
        guard case .truncated(.jpeg, let message)? = decodeError(cut) else { Issue.record("expected truncated"); return }
        #expect(message.contains("premature end"))
        // Lenient decoding (as a viewer would) fills the rest and succeeds.
        #expect(decodeError(cut, strict: false) == nil)
        // A progressive JPEG cut short is also caught.
        let prog = try ImageEncoder.jpeg(rgbImage(128, 128), progressive: true)
        guard case .truncated(.jpeg, _)? = decodeError(prog.prefix(prog.count / 2)) else { Issue.record("progressive"); return }
    }

    @Test func jpegCutInsideHeadersIsAnError() throws {
        let full = try ImageEncoder.jpeg(rgbImage(16, 16))
        #expect(decodeError(full.prefix(100)) != nil)
    }

    @Test func pngRoundTripIsExactIncludingInterlaced() throws {
        let img = rgbImage(37, 23)
        #expect(try ImageDecoder.decode(data: ImageEncoder.png(img)) == img)
        #expect(try ImageDecoder.decode(data: ImageEncoder.png(img, interlaced: true)) == img)
        let rgba = DecodedImage(width: 3, height: 2, channels: 4, pixels: (0..<24).map { UInt8($0 * 10) })
        #expect(try ImageDecoder.decode(data: ImageEncoder.png(rgba)) == rgba)
    }

    @Test func png16BitKeepsHighByteAndGrayAlphaBecomesRGBA() throws {
        let samples: [UInt8] = [0x12, 0xFF, 0xAB, 0x01, 0x00, 0x80]  // one RGB pixel at 16 bits
        let d = try ImageDecoder.decode(data: ImageEncoder.png(samples: samples, width: 1, height: 1, channels: 3, bitDepth: 16))
        #expect(d.pixels == [0x12, 0xAB, 0x00])
        let ga = try ImageDecoder.decode(data: ImageEncoder.png(samples: [200, 50], width: 1, height: 1, channels: 2, bitDepth: 8))
        #expect(ga.channels == 4 && ga.pixels == [200, 200, 200, 50])
    }

    @Test func truncatedAndCorruptPNG() throws {
        let full = try ImageEncoder.png(rgbImage(64, 64))
        guard case .truncated(.png, _)? = decodeError(full.prefix(full.count - 40)) else { Issue.record("truncated"); return }
        let b = Array(full)
        let idat = (0..<(b.count - 4)).first { b[$0] == 0x49 && b[$0 + 1] == 0x44 && b[$0 + 2] == 0x41 && b[$0 + 3] == 0x54 }!
        let length = Int(b[idat - 4]) << 24 | Int(b[idat - 3]) << 16 | Int(b[idat - 2]) << 8 | Int(b[idat - 1])
        // Damage the IDAT CRC: libpng reports a CRC error.
        var badCRC = b
        badCRC[idat + 4 + length] ^= 0xFF
        guard case .corrupt(.png, let message)? = decodeError(Data(badCRC)) else { Issue.record("crc"); return }
        #expect(message.lowercased().contains("crc"))
        // Damage the compressed data itself: zlib reports it.
        var badData = b
        badData[idat + 10] ^= 0xFF
        guard case .corrupt(.png, _)? = decodeError(Data(badData)) else { Issue.record("corrupt"); return }
    }

    @Test func webpLosslessRoundTripAndTruncation() throws {
        let img = rgbImage(20, 12)
        let data = try ImageEncoder.webp(img, lossless: true)
        #expect(try ImageDecoder.decode(data: data) == img)
        guard case .truncated(.webp, _)? = decodeError(data.prefix(data.count - 10)) else { Issue.record("truncated"); return }
    }

    @Test func bmpBothRowOrders() throws {
        let rgb = F.pattern(width: 5, height: 3)
        let expected = DecodedImage(width: 5, height: 3, channels: 3, pixels: rgb)
        #expect(try ImageDecoder.decode(data: F.bmp24(width: 5, height: 3, rgb: rgb)) == expected)
        #expect(try ImageDecoder.decode(data: F.bmp24(width: 5, height: 3, topDown: true, rgb: rgb)) == expected)
        let full = F.bmp24(width: 5, height: 3, rgb: rgb)
        guard case .truncated(.bmp, _)? = decodeError(full.prefix(full.count - 5)) else { Issue.record("truncated"); return }
    }

    @Test func gifFirstFrame() throws {
        let palette: [[UInt8]] = [[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]]
        let data = F.gif(width: 6, height: 4, frames: 2) { x, y, f in (x + y + f) % 4 }
        let d = try ImageDecoder.decode(data: data)
        let expected = (0..<4).flatMap { y in (0..<6).flatMap { x in palette[(x + y) % 4] } }
        #expect(d.width == 6 && d.height == 4 && d.pixels == expected)
        guard case .truncated(.gif, _)? = decodeError(data.prefix(40)) else { Issue.record("truncated"); return }
    }

    @Test func formatsWithoutDecoderAreUnsupported() {
        let avif = F.isobmff(brand: "avif", compatible: ["mif1"], width: 10, height: 10)
        guard case .unsupported(let why)? = decodeError(avif) else { Issue.record("avif"); return }
        #expect(why.contains("AVIF"))
        #expect(decodeError(Data()) == .notAnImage("empty file (0 bytes)"))
    }

    /// Orientation transforms on a 3×2 image whose pixels are their own indices.
    @Test func orientationTransforms() {
        let img = DecodedImage(width: 3, height: 2, channels: 1, pixels: [0, 1, 2, 3, 4, 5])
        // 0 1 2
        // 3 4 5
        let expected: [Int: (Int, Int, [UInt8])] = [
            1: (3, 2, [0, 1, 2, 3, 4, 5]),
            2: (3, 2, [2, 1, 0, 5, 4, 3]),
            3: (3, 2, [5, 4, 3, 2, 1, 0]),
            4: (3, 2, [3, 4, 5, 0, 1, 2]),
            5: (2, 3, [0, 3, 1, 4, 2, 5]),
            6: (2, 3, [3, 0, 4, 1, 5, 2]),
            7: (2, 3, [5, 2, 4, 1, 3, 0]),
            8: (2, 3, [2, 5, 1, 4, 0, 3]),
        ]
        for (o, (w, h, px)) in expected {
            let r = img.applyingOrientation(o)
            #expect(r.width == w && r.height == h && r.pixels == px, "orientation \(o)")
        }
    }

    @Test func resizeKeepsFlatImagesFlatAndThumbnailsFit() {
        let flat = DecodedImage(width: 100, height: 60, channels: 3, pixels: [UInt8](repeating: 77, count: 100 * 60 * 3))
        let small = Resampler.resize(flat, width: 13, height: 7)
        #expect(small.pixels.allSatisfy { $0 == 77 })
        let thumb = Resampler.thumbnail(rgbImage(400, 100), maxSide: 128)
        #expect(thumb.width == 128 && thumb.height == 32)
        let up = Resampler.resize(rgbImage(4, 4), width: 9, height: 9, filter: .bilinear)
        #expect(up.width == 9 && up.channels == 3)
    }

    @Test func lumaUsesPillowFormula() {
        let img = DecodedImage(width: 2, height: 1, channels: 4, pixels: [255, 0, 0, 0, 10, 200, 30, 255])
        #expect(img.luma().pixels == [76, 124])  // (255*19595+0x8000)>>16 = 76; (10*19595+200*38470+30*7471+0x8000)>>16 = 124
    }
}

@Suite struct CMYKTests {
    /// An Adobe CMYK JPEG decodes as Pillow does (inverted CMYK → RGB → L). Expected values came from
    /// Pillow 11.3.0 + imagehash 4.3.2 on the same bytes (`BenchFilter write-cmyk` writes them).
    @Test func adobeCMYKMatchesPillow() throws {
        let w = 48, h = 40
        var samples = [UInt8]()
        for y in 0..<h { for x in 0..<w { samples += [UInt8(x * 5), UInt8(y * 6), UInt8((x + y) * 2), UInt8((x * y) % 200)] } }
        let data = try ImageEncoder.jpegCMYK(samples: samples, width: w, height: h)
        let p = try probe(data)
        #expect(p.colorModel == .cmyk && p.components == 4)
        let d = try ImageDecoder.decode(data: data)
        #expect(d.channels == 3 && d.width == w)
        #expect(d.luma().pixels.reduce(0) { $0 + Int($1) } == 81501)
        #expect(PerceptualHash.compute(image: d).hex == "807f7f7c68706143")
        #expect(try PerceptualHash.compute(data: data).hex == "807f7f7c68706143")  // luma-direct path
    }
}

@Suite struct AnimatedAndExtendedTests {
    /// An animated WebP assembled from real lossless frames decodes its first frame through libwebp's demuxer.
    @Test func animatedWebPFirstFrame() throws {
        let first = rgbImage(12, 8, seed: 1), second = rgbImage(12, 8, seed: 5)
        func vp8l(_ img: DecodedImage) throws -> [UInt8] {
            let bytes = Array(try ImageEncoder.webp(img, lossless: true))
            // RIFF(12) then one chunk: "VP8L" size payload.
            #expect(bytes[12..<16].elementsEqual(F.ascii("VP8L")))
            let size = Int(bytes[16]) | Int(bytes[17]) << 8 | Int(bytes[18]) << 16 | Int(bytes[19]) << 24
            return Array(bytes[20..<(20 + size)])
        }
        var chunks = [F.riffChunk("VP8X", [0x02, 0, 0, 0] + F.le24(11) + F.le24(7)), F.riffChunk("ANIM", [0, 0, 0, 0, 0, 0])]
        for img in [first, second] {
            chunks.append(F.riffChunk("ANMF", F.le24(0) + F.le24(0) + F.le24(11) + F.le24(7) + F.le24(100) + [0]
                                      + F.riffChunk("VP8L", try vp8l(img))))
        }
        let data = F.riff(chunks)
        let p = try probe(data)
        #expect(p.animated && p.frameCount == 2 && p.width == 12 && p.height == 8)
        let d = try ImageDecoder.decode(data: data)
        #expect(d.channels == 4 && d.width == 12 && d.height == 8)
        #expect(d.rgb() == first)
    }

    /// Extended XMP (APP1 "http://ns.adobe.com/xmp/extension/") split in two chunks, stored out of order.
    @Test func extendedXMPIsReassembled() throws {
        let packet = Array(F.prohibitedXMP.utf8)
        let half = packet.count / 2
        func segment(_ offset: Int, _ part: ArraySlice<UInt8>) -> [UInt8] {
            F.jpegSegment(0xE1, F.ascii("http://ns.adobe.com/xmp/extension/") + [0]
                          + F.ascii(String(repeating: "A", count: 32)) + F.be32(packet.count) + F.be32(offset) + Array(part))
        }
        let data = F.jpegHeader(width: 10, height: 10, segments: [segment(half, packet[half...]), segment(0, packet[..<half])])
        let r = try probe(data).rights
        #expect(r.xmpDataMining?.hasSuffix("DMI-PROHIBITED") == true)
        #expect(r.xmpSource == "Shutterstock")
    }
}
