import Foundation

/// Header-only image probing. Pure: bytes in, `ImageProbe` out; no pixel data is decoded.
public enum ImageProber {
    /// Probe an in-memory image.
    public static func probe(data: Data, scope: ProbeScope = .full) throws(ProbeError) -> ImageProbe {
        do {
            return try data.withUnsafeBytes { (buf: UnsafeRawBufferPointer) throws(ProbeError) -> ImageProbe in
                try probe(bytes: buf, scope: scope)
            }
        } catch let e as ProbeError {
            throw e
        } catch {
            throw .unsupported("\(error)")
        }
    }

    /// The first read of `probe(path:)`: most JPEG/PNG headers fit in 4 KiB.
    static let firstRead = 4 * 1024
    /// Reads after a truncated first look, when the header walk cannot say how much it needs.
    static let growthSteps = [64 * 1024, 256 * 1024, 1024 * 1024]

    /// Probe a file, reading only as much of its head as the headers need.
    /// GIF and WebP are read whole: their frame count and metadata chunks need a walk over the file.
    public static func probe(fileAt url: URL, scope: ProbeScope = .full) throws(ProbeError) -> ImageProbe {
        try probe(path: url.path, scope: scope)
    }

    /// Probe a file by path: 4 KiB first; when a JPEG segment or PNG chunk runs past what was read, only the
    /// missing part up to its end (plus room for the next headers) is read and appended, so a photo with a
    /// 30 KiB EXIF block costs two reads and no re-read.
    public static func probe(path: String, scope: ProbeScope = .full) throws(ProbeError) -> ImageProbe {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var head = FileHead(fd: fd, path: path)
        defer { head.deallocate() }
        try head.read(upTo: firstRead)
        var step = 0
        while true {
            if !head.complete, head.starts(with: "GIF8") || head.starts(with: "RIFF") {
                try head.readAll()
            }
            do {
                return try head.withBytes { (bytes) throws(ProbeError) -> ImageProbe in try probe(bytes: bytes, scope: scope) }
            } catch .truncated where !head.complete {
                // Read further below.
            }
            if let wanted = head.withBytes(HeaderExtent.wanted), wanted > head.count {
                try head.read(upTo: wanted)
            } else if step < growthSteps.count, growthSteps[step] > head.count {
                try head.read(upTo: growthSteps[step])
                step += 1
            } else {
                try head.readAll()
            }
        }
    }

    /// Probe raw bytes.
    public static func probe(bytes: UnsafeRawBufferPointer, scope: ProbeScope = .full) throws(ProbeError) -> ImageProbe {
        let r = ByteReader(bytes)
        guard r.count > 0 else { throw .notAnImage("empty file (0 bytes)") }
        if r.u8(0) == 0xFF, r.u8(1) == 0xD8 { return try JPEGProbe.probe(r, scope: scope) }
        if r.u8(0) == 0x89, r.count < 4 || r.matches(1, "PNG") {
            return try PNGProbe.probe(r, scope: scope)
        }
        if r.matches(0, "GIF87a") || r.matches(0, "GIF89a") { return try GIFProbe.probe(r) }
        if r.matches(0, "RIFF"), r.matches(8, "WEBP") { return try WebPProbe.probe(r, scope: scope) }
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
