import Foundation

/// Builds a POSIX ustar archive in memory, byte for byte reproducible: fixed mtime (0), owner 0/0, mode 0644,
/// no user or group names. What `tarfile`, `webdataset` and GNU tar read.
struct TarWriter {
    private(set) var data = Data()

    enum TarError: Error, CustomStringConvertible {
        case nameTooLong(String)
        var description: String {
            switch self {
            case .nameTooLong(let name): "tar member name \(name) is longer than 100 bytes"
            }
        }
    }

    /// Appends one regular file.
    mutating func append(name: String, contents: Data) throws {
        let nameBytes = Array(name.utf8)
        guard nameBytes.count <= 100 else { throw TarError.nameTooLong(name) }
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], at offset: Int) {
            for (i, b) in bytes.enumerated() { header[offset + i] = b }
        }
        func octal(_ value: Int, width: Int) -> [UInt8] {
            // width-1 octal digits, zero padded, then NUL.
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
        }
        put(nameBytes, at: 0)
        put(octal(0o644, width: 8), at: 100)
        put(octal(0, width: 8), at: 108)
        put(octal(0, width: 8), at: 116)
        put(octal(contents.count, width: 12), at: 124)
        put(octal(0, width: 12), at: 136)
        put(Array(repeating: 0x20, count: 8), at: 148)  // checksum placeholder: spaces
        header[156] = UInt8(ascii: "0")
        put(Array("ustar".utf8) + [0], at: 257)
        put(Array("00".utf8), at: 263)
        let checksum = header.reduce(0) { $0 + Int($1) }
        let digits = String(checksum, radix: 8)
        put(Array((String(repeating: "0", count: max(0, 6 - digits.count)) + digits).utf8) + [0, 0x20], at: 148)
        data.append(contentsOf: header)
        data.append(contents)
        let padding = (512 - contents.count % 512) % 512
        if padding > 0 { data.append(contentsOf: [UInt8](repeating: 0, count: padding)) }
    }

    /// The finished archive: the members followed by two zero blocks.
    func finished() -> Data {
        var out = data
        out.append(contentsOf: [UInt8](repeating: 0, count: 1024))
        return out
    }
}
