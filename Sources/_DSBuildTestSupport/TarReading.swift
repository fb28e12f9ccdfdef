import Foundation

/// Reads the regular members of a ustar archive (a paired WebDataset shard), independently of the writer.
public enum TarReading {
    /// One member: its name and bytes.
    public struct Member: Sendable {
        public let name: String
        public let data: Data
    }

    /// A header whose size field is not octal: the archive is not one this reader (or tar) accepts.
    public struct MalformedArchive: Error, CustomStringConvertible {
        public let offset: Int
        public var description: String { "tar header at byte \(offset) has no octal size; the archive is corrupt" }
    }

    public static func members(_ tar: Data) throws -> [Member] {
        var out: [Member] = []
        var offset = 0
        let bytes = [UInt8](tar)
        while offset + 512 <= bytes.count {
            let header = bytes[offset..<offset + 512]
            if header.allSatisfy({ $0 == 0 }) { break }
            let nameBytes = header.prefix(100).prefix { $0 != 0 }
            let name = String(decoding: nameBytes, as: UTF8.self)
            let sizeText = String(decoding: bytes[(offset + 124)..<(offset + 135)].filter { $0 != 0 && $0 != 0x20 }, as: UTF8.self)
            guard let size = Int(sizeText, radix: 8), offset + 512 + size <= bytes.count else { throw MalformedArchive(offset: offset) }
            out.append(Member(name: name, data: Data(bytes[(offset + 512)..<(offset + 512 + size)])))
            offset += 512 + (size + 511) / 512 * 512
        }
        return out
    }
}
