/// Bounds-checked big/little-endian reads over a byte buffer. Every read returns nil past the end,
/// so header parsers never trap on hostile input.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var count: Int { bytes.count }

    @inline(__always) func has(_ offset: Int, _ length: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= bytes.count && bytes.count - offset >= length
    }

    @inline(__always) func u8(_ o: Int) -> UInt8? { o >= 0 && o < bytes.count ? bytes[o] : nil }

    @inline(__always) func u16be(_ o: Int) -> Int? {
        guard has(o, 2) else { return nil }
        return Int(bytes[o]) << 8 | Int(bytes[o + 1])
    }

    @inline(__always) func u16le(_ o: Int) -> Int? {
        guard has(o, 2) else { return nil }
        return Int(bytes[o + 1]) << 8 | Int(bytes[o])
    }

    @inline(__always) func u24le(_ o: Int) -> Int? {
        guard has(o, 3) else { return nil }
        return Int(bytes[o + 2]) << 16 | Int(bytes[o + 1]) << 8 | Int(bytes[o])
    }

    @inline(__always) func u32be(_ o: Int) -> Int? {
        guard has(o, 4) else { return nil }
        return Int(bytes[o]) << 24 | Int(bytes[o + 1]) << 16 | Int(bytes[o + 2]) << 8 | Int(bytes[o + 3])
    }

    @inline(__always) func u32le(_ o: Int) -> Int? {
        guard has(o, 4) else { return nil }
        return Int(bytes[o + 3]) << 24 | Int(bytes[o + 2]) << 16 | Int(bytes[o + 1]) << 8 | Int(bytes[o])
    }

    func u16(_ o: Int, bigEndian: Bool) -> Int? { bigEndian ? u16be(o) : u16le(o) }
    func u32(_ o: Int, bigEndian: Bool) -> Int? { bigEndian ? u32be(o) : u32le(o) }

    /// True when the bytes at `o` equal `ascii`.
    func matches(_ o: Int, _ ascii: StaticString) -> Bool {
        let n = ascii.utf8CodeUnitCount
        guard has(o, n) else { return false }
        return ascii.withUTF8Buffer { lit in
            for i in 0..<n where bytes[o + i] != lit[i] { return false }
            return true
        }
    }

    func slice(_ o: Int, _ length: Int) -> UnsafeRawBufferPointer? {
        guard has(o, length) else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[o..<(o + length)])
    }

    func array(_ o: Int, _ length: Int) -> [UInt8]? {
        guard let s = slice(o, length) else { return nil }
        return Array(s)
    }
}

/// Text from metadata fields: UTF-8 when valid; UTF-8 with U+FFFD for the bad bytes when it holds valid multi-byte
/// UTF-8 sequences among invalid ones (a Hangul artist with one stray byte stays Hangul); else ISO-8859-1 (a legacy
/// encoder); trailing NULs and whitespace trimmed.
func metadataString<C: Collection>(_ bytes: C) -> String? where C.Element == UInt8 {
    var arr = Array(bytes)
    while let last = arr.last, last == 0 || last == 0x20 || last == 0x0A || last == 0x0D || last == 0x09 { arr.removeLast() }
    var start = 0
    while start < arr.count, arr[start] == 0x20 || arr[start] == 0x0A || arr[start] == 0x0D || arr[start] == 0x09 { start += 1 }
    arr.removeFirst(start)
    guard !arr.isEmpty else { return nil }
    if let s = String(validating: arr, as: UTF8.self) { return s }
    let repaired = String(decoding: arr, as: UTF8.self)
    if repaired.unicodeScalars.contains(where: { $0.value > 0x7F && $0 != "\u{FFFD}" }) { return repaired }
    var latin1 = ""
    latin1.unicodeScalars.append(contentsOf: arr.map { Unicode.Scalar($0) })
    return latin1
}
