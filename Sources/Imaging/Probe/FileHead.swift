import Foundation

/// The first bytes of an open file, grown on demand by appending (never re-reading what is held).
/// Owns a malloc'd buffer; call `deallocate()` when done.
struct FileHead {
    let fd: Int32
    let path: String
    private(set) var count = 0
    /// True once a read came back short: the whole file is held.
    private(set) var complete = false
    private var buffer: UnsafeMutableRawPointer?
    private var capacity = 0

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Read until `count` reaches `limit` or the file ends.
    mutating func read(upTo limit: Int) throws(ProbeError) {
        guard !complete, limit > count else { return }
        if limit > capacity {
            guard let grown = realloc(buffer, limit) else {
                throw .unreadable(path: path, reason: "cannot allocate \(limit) bytes for the header")
            }
            buffer = grown
            capacity = limit
        }
        while count < limit {
            let r = pread(fd, buffer! + count, limit - count, off_t(count))
            if r < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: String(cString: strerror(errno)))
            }
            if r == 0 { complete = true; return }
            count += r
        }
    }

    /// Read the rest of the file (its size from fstat, plus one byte so a short read proves the end).
    mutating func readAll() throws(ProbeError) {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
        try read(upTo: max(Int(st.st_size) + 1, count + 1))
    }

    func starts(with ascii: StaticString) -> Bool {
        withBytes { ByteReader($0).matches(0, ascii) }
    }

    func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: buffer, count: count))
    }

    mutating func deallocate() {
        free(buffer)
        buffer = nil
        capacity = 0
    }
}

/// How many leading bytes a JPEG or PNG header needs, found by walking segment/chunk lengths only:
/// the end of the first segment that runs past the bytes held, plus room for the headers after it.
enum HeaderExtent {
    static let margin = 4 * 1024

    static func wanted(_ bytes: UnsafeRawBufferPointer) -> Int? {
        let r = ByteReader(bytes)
        if r.u8(0) == 0xFF, r.u8(1) == 0xD8 { return jpeg(r) }
        if r.u8(0) == 0x89, r.matches(1, "PNG") { return png(r) }
        return nil
    }

    private static func jpeg(_ r: ByteReader) -> Int? {
        var o = 2
        while let b = r.u8(o), b == 0xFF {
            while r.u8(o + 1) == 0xFF { o += 1 }
            guard let m = r.u8(o + 1) else { return nil }
            if m == 0x01 || (0xD0...0xD7).contains(m) { o += 2; continue }
            if m == 0xDA || m == 0xD9 { return nil }
            guard let length = r.u16be(o + 2), length >= 2 else { return nil }
            let end = o + 2 + length
            if end + 4 > r.count { return end + margin }
            o = end
        }
        return nil
    }

    private static func png(_ r: ByteReader) -> Int? {
        var o = 8
        while r.has(o, 8), let length = r.u32be(o) {
            if r.matches(o + 4, "IDAT") || r.matches(o + 4, "IEND") { return nil }
            let end = o + 12 + length
            if end + 8 > r.count { return end + margin }
            o = end
        }
        return nil
    }
}
