import Foundation

/// Searches over bytes for tests that scan shards and exports: an OpenAI export holds tens of megabytes of base64,
/// and String searches (grapheme by grapheme) or a regular expression over it took most of those tests' time in
/// a debug build.
public enum ByteScan {
    /// Whether `needle` occurs in `haystack` (memchr for the first byte, memcmp for the rest).
    public static func contains(_ haystack: Data, _ needle: Data) -> Bool {
        guard !needle.isEmpty else { return true }
        return haystack.withUnsafeBytes { h in
            needle.withUnsafeBytes { n in find(n, in: h, from: 0) != nil }
        }
    }

    /// The offset of the first `needle` in `haystack` at or after `from`.
    static func find(_ needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard let base = haystack.baseAddress, let first = needle.first, needle.count <= haystack.count else { return nil }
        var offset = from
        let last = haystack.count - needle.count
        while offset <= last {
            guard let hit = memchr(base + offset, Int32(first), last - offset + 1) else { return nil }
            let at = base.distance(to: UnsafeRawPointer(hit))
            if memcmp(base + at, needle.baseAddress!, needle.count) == 0 { return at }
            offset = at + 1
        }
        return nil
    }

    /// The images of every match of `data:image/[a-z]+;base64,([A-Za-z0-9+/=]+)` in `data`, in order, decoded
    /// (a match whose base64 does not decode is skipped), as that regular expression finds them.
    public static func dataURLImages(_ data: Data) -> [Data] {
        // NUL-terminated, so that strspn measures a base64 run in C (a byte-by-byte Swift loop is slow in debug).
        let bytes = [UInt8](data) + [0]
        let prefix = Array("data:image/".utf8), marker = Array(";base64,".utf8)
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
        var out: [Data] = []
        bytes.withUnsafeBufferPointer { terminated in
            let count = terminated.count - 1
            let buffer = UnsafeBufferPointer(rebasing: terminated[0..<count])
            let raw = UnsafeRawBufferPointer(buffer)
            var from = 0
            while from < count, let start = prefix.withUnsafeBytes({ find($0, in: raw, from: from) }) {
                from = start + 1
                var i = start + prefix.count
                let typeStart = i
                while i < count, buffer[i] >= 0x61, buffer[i] <= 0x7A { i += 1 }
                guard i > typeStart, i + marker.count <= count, Array(buffer[i..<i + marker.count]) == marker else { continue }
                i += marker.count
                let payloadStart = i
                i += terminated.baseAddress!.advanced(by: i).withMemoryRebound(to: CChar.self, capacity: 1) { strspn($0, alphabet) }
                guard i > payloadStart else { continue }
                if let image = Data(base64Encoded: Data(buffer[payloadStart..<i])) { out.append(image) }
                from = i
            }
        }
        return out
    }
}
