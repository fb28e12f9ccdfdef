import Foundation

/// Recognises an image container by its first bytes, and names what a non-image looks like (HTML, JSON, XML,
/// PDF…), so a download can be refused with a clear reason before it is stored.
public enum ImageMagic {
    public static func format(of prefix: some Collection<UInt8>) -> String? {
        let b = Array(prefix.prefix(16))
        func starts(_ bytes: [UInt8], at offset: Int = 0) -> Bool {
            b.count >= offset + bytes.count && Array(b[offset..<offset + bytes.count]) == bytes
        }
        if starts([0xFF, 0xD8, 0xFF]) { return "jpeg" }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "png" }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return "gif" }
        if starts(Array("RIFF".utf8)), starts(Array("WEBP".utf8), at: 8) { return "webp" }
        if starts(Array("BM".utf8)) { return "bmp" }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return "tiff" }
        if starts(Array("ftyp".utf8), at: 4), b.count >= 12 {
            let brand = String(decoding: b[8..<12], as: UTF8.self)
            if ["avif", "avis"].contains(brand) { return "avif" }
            if ["heic", "heix", "hevc", "heim", "heis", "mif1", "msf1"].contains(brand) { return "heif" }
        }
        return nil
    }

    /// A short description of what non-image bytes look like (`text/html`, `json`, `empty`…).
    public static func describeNonImage(_ prefix: some Collection<UInt8>) -> String {
        let bytes = Array(prefix.prefix(512))
        if bytes.isEmpty { return "empty body" }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if text.hasPrefix("<!doctype html") || text.hasPrefix("<html") || text.contains("<body") || text.contains("<head") {
            return "text/html"
        }
        if text.hasPrefix("<?xml") || text.hasPrefix("<svg") { return text.contains("<svg") ? "svg (vector, not a bitmap)" : "xml" }
        if text.hasPrefix("{") || text.hasPrefix("[") { return "json" }
        if text.hasPrefix("%pdf") { return "pdf" }
        let hex = bytes.prefix(4).map { String(format: "%02x", $0) }.joined()
        return "unknown bytes (starts with \(hex))"
    }
}
