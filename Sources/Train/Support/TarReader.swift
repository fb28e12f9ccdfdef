import Foundation

/// Reads a POSIX ustar (or GNU) archive member by member from a file, without loading the archive whole, and
/// hashes every byte it reads, so the caller can compare the archive with its recorded sha256 in the same pass.
struct TarReader {
    struct Member {
        var name: String
        var contents: Data
    }

    struct TarReadError: Error, CustomStringConvertible {
        let file: String
        let message: String
        var description: String { "\(file): \(message)" }
    }

    private let handle: FileHandle
    private let file: String
    private(set) var digest = RunningDigest()
    private var longName: String?

    init(url: URL) throws {
        handle = try FileHandle(forReadingFrom: url)
        file = url.path
    }

    func close() { try? handle.close() }

    private mutating func read(_ count: Int) throws -> Data {
        var out = Data()
        while out.count < count {
            guard let chunk = try handle.read(upToCount: count - out.count), !chunk.isEmpty else { break }
            out.append(chunk)
        }
        digest.update(out)
        return out
    }

    /// Reads the rest of the file into the digest (after the end-of-archive blocks).
    mutating func drain() throws {
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { digest.update(chunk) }
    }

    /// The next regular file, or nil at the end of the archive.
    mutating func next() throws -> Member? {
        while true {
            let header = try read(512)
            if header.isEmpty { return nil }
            guard header.count == 512 else { throw TarReadError(file: file, message: "truncated header at byte \(digest.bytes - header.count)") }
            if header.allSatisfy({ $0 == 0 }) { return nil }
            let bytes = [UInt8](header)
            func field(_ offset: Int, _ length: Int) -> String {
                let slice = bytes[offset..<offset + length]
                let end = slice.firstIndex(of: 0) ?? slice.endIndex
                return String(decoding: bytes[offset..<end], as: UTF8.self)
            }
            let sizeText = field(124, 12).trimmingCharacters(in: .whitespaces)
            guard let size = Int(sizeText.isEmpty ? "0" : sizeText, radix: 8) else {
                throw TarReadError(file: file, message: "bad size field \(sizeText.debugDescription) at byte \(digest.bytes - 512)")
            }
            let type = bytes[156]
            var name = field(0, 100)
            let prefix = field(345, 155)
            if field(257, 5) == "ustar", !prefix.isEmpty { name = prefix + "/" + name }
            let contents = try read(size)
            guard contents.count == size else { throw TarReadError(file: file, message: "member \(name) is truncated") }
            let padding = (512 - size % 512) % 512
            if padding > 0 { _ = try read(padding) }
            switch type {
            case UInt8(ascii: "L"):  // GNU long name for the next member
                longName = String(decoding: contents.prefix { $0 != 0 }, as: UTF8.self)
            case UInt8(ascii: "0"), 0:
                defer { longName = nil }
                return Member(name: longName ?? name, contents: contents)
            default:
                longName = nil  // directories, links, pax headers: not samples
            }
        }
    }
}
