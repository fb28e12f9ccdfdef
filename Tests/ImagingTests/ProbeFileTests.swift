import Foundation
import Testing
import _DSBuildTestSupport
@testable import Imaging

/// Probing from files: the head is read in pieces (4 KiB, then up to the end of the segment that ran past it),
/// and the result must equal probing the whole file in memory.
@Suite final class ProbeFileTests {
    let dir: URL

    init() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("probe-file-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: dir) }

    func write(_ data: Data, _ name: String) throws -> URL {
        let url = dir.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    /// An APP2 segment of `size` payload bytes (an ICC-profile-sized block the probe must step over);
    /// at most 65 521 bytes, as segment lengths are 16-bit.
    func filler(_ size: Int, seed: UInt8) -> [UInt8] {
        F.jpegSegment(0xE2, F.ascii("ICC_PROFILE\u{0}") + (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) ^ seed })
    }

    /// Rights metadata placed after 3 × 60 KiB of other segments: the file head must be read far past 4 KiB,
    /// and past the 64 KiB and 128 KiB marks, before the XMP and the SOF are reached.
    @Test func metadataAfterLargeSegmentsIsReadFromFile() throws {
        let base = try ImageEncoder.jpeg(rgbImage(48, 32))
        let data = F.insertAfterSOI(base, [
            filler(60_000, seed: 1), filler(60_000, seed: 2), filler(60_000, seed: 3),
            F.exifAPP1(orientation: 6, copyright: "Jane Photographer"), F.xmpAPP1(F.istockXMP),
        ])
        let url = try write(data, "big-header.jpg")
        let fromFile = try ImageProber.probe(fileAt: url)
        #expect(fromFile == (try probe(data)))
        #expect(fromFile.width == 48 && fromFile.height == 32 && fromFile.displayWidth == 32)
        #expect(fromFile.rights.gettyAssetID == "1234567890")
        #expect(fromFile.rights.exifCopyright == "Jane Photographer")
    }

    /// The header walk asks for exactly the segment that ran past the bytes held, plus a margin.
    @Test func headerExtentNamesTheSegmentThatRanPast() throws {
        let base = try ImageEncoder.jpeg(rgbImage(16, 16))
        let data = Array(F.insertAfterSOI(base, [filler(30_000, seed: 4)]))
        let segmentEnd = 2 + 2 + 2 + 12 + 30_000  // SOI, marker, length, signature, payload
        let wanted = Array(data.prefix(4096)).withUnsafeBytes { HeaderExtent.wanted($0) }
        #expect(wanted == segmentEnd + HeaderExtent.margin)
        // With the whole header held there is nothing more to ask for.
        #expect(data.withUnsafeBytes { HeaderExtent.wanted($0) } == nil)

        let png = Array(F.pngHeader(width: 9, height: 7, chunks: [F.xmpITXt(F.istockXMP + String(repeating: " ", count: 20_000))]))
        let pngWanted = Array(png.prefix(4096)).withUnsafeBytes { HeaderExtent.wanted($0) }
        let itxtEnd = 33 + 12 + 22 + F.istockXMP.utf8.count + 20_000
        #expect(pngWanted == itxtEnd + HeaderExtent.margin)
    }

    @Test func largePNGTextChunkIsReadFromFile() throws {
        let data = F.pngHeader(width: 300, height: 200, chunks: [
            F.xmpITXt(F.istockXMP + String(repeating: " ", count: 70_000)), F.acTL(frames: 3),
        ])
        let fromFile = try ImageProber.probe(fileAt: try write(data, "big-itxt.png"))
        #expect(fromFile == (try probe(data)))
        #expect(fromFile.animated && fromFile.frameCount == 3)
        #expect(fromFile.rights.gettyAssetID == "1234567890")
    }

    /// A file cut inside a large header segment is truncated, not corrupt, however far the reads go.
    @Test func fileCutInsideALargeSegmentIsTruncated() throws {
        let base = try ImageEncoder.jpeg(rgbImage(16, 16))
        let data = F.insertAfterSOI(base, [filler(60_000, seed: 5), filler(60_000, seed: 6)])
        for cut in [3000, 5000, 59_000, 70_000, 110_000] {
            let url = try write(data.prefix(cut), "cut-\(cut).jpg")
            #expect(throws: ProbeError.truncated(.jpeg)) { try ImageProber.probe(fileAt: url) }
        }
    }

    /// Geometry scope still reads the EXIF orientation but leaves the rights metadata alone.
    @Test func geometryScopeSkipsRightsButKeepsOrientation() throws {
        let base = try ImageEncoder.jpeg(rgbImage(40, 20))
        let data = F.insertAfterSOI(base, [
            F.exifAPP1(orientation: 8, copyright: "Jane Photographer"), F.xmpAPP1(F.istockXMP),
            F.iptcAPP13([(110, "Getty Images/iStockphoto")]),
        ])
        let url = try write(data, "rights.jpg")
        let geometry = try ImageProber.probe(fileAt: url, scope: .geometry)
        let full = try ImageProber.probe(fileAt: url, scope: .full)
        #expect(geometry.orientation == 8 && geometry.displayWidth == 20 && geometry.displayHeight == 40)
        #expect(geometry.rights == EmbeddedRights())
        #expect(full.rights.iptcCredit == "Getty Images/iStockphoto" && full.rights.exifCopyright == "Jane Photographer")
        #expect(full.rights.gettyAssetID == "1234567890")
        var withoutRights = full
        withoutRights.rights = EmbeddedRights()
        #expect(withoutRights == geometry)

        let png = F.pngHeader(width: 5, height: 9, chunks: [F.pngChunk("eXIf", F.exifTIFF(orientation: 6, copyright: "C")),
                                                            F.xmpITXt(F.istockXMP)])
        let pngGeometry = try ImageProber.probe(data: png, scope: .geometry)
        #expect(pngGeometry.orientation == 6 && pngGeometry.rights == EmbeddedRights())
        #expect(try ImageProber.probe(data: png).rights.gettyAssetID == "1234567890")
    }
}
