import Foundation

/// Header-only image probing. Pure: bytes in, `ImageProbe` out; no pixel data is decoded.
public enum ImageProber {
    /// Probe an in-memory image.
    public static func probe(data: Data) throws(ProbeError) -> ImageProbe {
        do {
            return try data.withUnsafeBytes { (buf: UnsafeRawBufferPointer) throws(ProbeError) -> ImageProbe in
                try probe(bytes: buf)
            }
        } catch let e as ProbeError {
            throw e
        } catch {
            throw .unsupported("\(error)")
        }
    }

    /// Probe a file. The file is memory-mapped, so only the pages the header parsers touch are read
    /// (for JPEG: markers up to SOS; PNG: chunks before IDAT; GIF walks block headers to count frames).
    public static func probe(fileAt url: URL) throws(ProbeError) -> ImageProbe {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: [.alwaysMapped])
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? error.localizedDescription
            throw .unreadable(path: url.path, reason: reason)
        }
        return try probe(data: data)
    }

    /// Probe raw bytes.
    public static func probe(bytes: UnsafeRawBufferPointer) throws(ProbeError) -> ImageProbe {
        let r = ByteReader(bytes)
        guard r.count > 0 else { throw .notAnImage("empty file (0 bytes)") }
        if r.u8(0) == 0xFF, r.u8(1) == 0xD8 { return try JPEGProbe.probe(r) }
        if r.matches(0, "\u{89}PNG") || (r.count < 8 && r.u8(0) == 0x89 && r.matches(1, "PNG")) {
            return try PNGProbe.probe(r)
        }
        if r.matches(0, "GIF87a") || r.matches(0, "GIF89a") { return try GIFProbe.probe(r) }
        if r.matches(0, "RIFF"), r.matches(8, "WEBP") { return try WebPProbe.probe(r) }
        if r.matches(0, "BM") { return try BMPProbe.probe(r) }
        if r.matches(4, "ftyp") { return try ISOBMFFProbe.probe(r) }
        if r.matches(0, "II*\u{0}") || r.matches(0, "MM\u{0}*") { return try TIFFProbe.probe(r) }
        if r.count < 8 && (r.matches(0, "GIF") || r.matches(0, "RIFF")) {
            throw .truncated(r.matches(0, "GIF") ? .gif : .webp)
        }
        if r.count == 1, r.u8(0) == 0xFF { throw .truncated(.jpeg) }
        throw .notAnImage(Sniff.describe(bytes))
    }
}

/// Describes what non-image bytes look like, so the error says something a user can act on.
enum Sniff {
    static func describe(_ bytes: UnsafeRawBufferPointer) -> String {
        let head = Array(bytes.prefix(512))
        var start = 0
        if head.starts(with: [0xEF, 0xBB, 0xBF]) { start = 3 }
        while start < head.count, [0x20, 0x09, 0x0A, 0x0D].contains(head[start]) { start += 1 }
        let text = String(decoding: head[start...], as: UTF8.self).lowercased()
        if text.hasPrefix("<!doctype html") || text.hasPrefix("<html") || text.hasPrefix("<head")
            || (text.hasPrefix("<") && (text.contains("<html") || text.contains("<body")))
        {
            return "looks like HTML (a web page was saved instead of the image; check the URL)"
        }
        if text.hasPrefix("<svg") || (text.hasPrefix("<?xml") && text.contains("<svg")) {
            return "looks like SVG (vector graphics are not supported)"
        }
        if text.hasPrefix("<?xml") || text.hasPrefix("<") { return "looks like XML" }
        if text.hasPrefix("{") || text.hasPrefix("[") { return "looks like JSON (an API error response?)" }
        if head.starts(with: Array("%PDF".utf8)) { return "looks like PDF" }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) { return "looks like a ZIP archive" }
        if head.starts(with: [0x1F, 0x8B]) { return "looks like gzip data (compressed transfer not decoded?)" }
        if head.count >= 12, head[4..<8].elementsEqual(Array("ftyp".utf8)) { return "looks like an ISO media file (video?)" }
        let hex = head.prefix(8).map { String(format: "%02x", $0) }.joined(separator: " ")
        return "unknown format (first bytes \(hex))"
    }
}
