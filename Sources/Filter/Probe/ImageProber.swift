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

    /// Read sizes for `probe(fileAt:)`: most JPEG/PNG headers fit in the first 4 KiB, photos with EXIF
    /// thumbnails or big XMP in 64 KiB, ICC profiles and Photoshop blocks in 256 KiB–1 MiB; only then
    /// is the whole file read.
    static let readSteps = [4 * 1024, 64 * 1024, 256 * 1024, 1024 * 1024]

    /// Probe a file, reading only as much of its head as the headers need (4 KiB, 64 KiB, … then all).
    /// GIF and WebP are read whole: their frame count and metadata chunks need a walk over the file.
    public static func probe(fileAt url: URL) throws(ProbeError) -> ImageProbe {
        try probe(path: url.path)
    }

    public static func probe(path: String) throws(ProbeError) -> ImageProbe {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        func readPrefix(_ n: Int) throws(ProbeError) -> [UInt8] {
            var failure: Int32 = 0
            let bytes = [UInt8](unsafeUninitializedCapacity: n) { buf, count in
                count = 0
                while count < n {
                    let r = pread(fd, buf.baseAddress! + count, n - count, off_t(count))
                    if r < 0 { if errno == EINTR { continue }; failure = errno; return }
                    if r == 0 { return }
                    count += r
                }
            }
            if failure != 0 { throw .unreadable(path: path, reason: String(cString: strerror(failure))) }
            return bytes
        }
        func wholeFileLimit() throws(ProbeError) -> Int {
            var st = stat()
            guard fstat(fd, &st) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
            return Int(st.st_size) + 1  // one more than the size, so a short read proves we have it all
        }
        func attempt(_ b: [UInt8]) -> Result<ImageProbe, ProbeError> {
            b.withUnsafeBytes { buf in Result { () throws(ProbeError) -> ImageProbe in try probe(bytes: buf) } }
        }
        var step = 0
        var limit = readSteps[0]
        while true {
            let bytes = try readPrefix(limit)
            let complete = bytes.count < limit
            if !complete, bytes.starts(with: Array("GIF8".utf8)) || bytes.starts(with: Array("RIFF".utf8)) {
                limit = try wholeFileLimit()
                step = readSteps.count
                continue
            }
            let result = attempt(bytes)
            if case .failure(.truncated) = result, !complete {
                step += 1
                limit = step < readSteps.count ? readSteps[step] : try wholeFileLimit()
                continue
            }
            return try result.get()
        }
    }

    /// Probe raw bytes.
    public static func probe(bytes: UnsafeRawBufferPointer) throws(ProbeError) -> ImageProbe {
        let r = ByteReader(bytes)
        guard r.count > 0 else { throw .notAnImage("empty file (0 bytes)") }
        if r.u8(0) == 0xFF, r.u8(1) == 0xD8 { return try JPEGProbe.probe(r) }
        if r.u8(0) == 0x89, r.count < 4 || r.matches(1, "PNG") {
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
