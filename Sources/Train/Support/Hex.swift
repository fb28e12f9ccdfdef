import Crypto
import Foundation

/// SHA-256 helpers: hex digests of bytes, strings and files.
enum Hash {
    static func sha256Hex(_ data: some DataProtocol) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }

    static func sha256Hex(_ text: String) -> String { sha256Hex(Data(text.utf8)) }

    /// The digest of a file, read in 1 MiB chunks.
    static func sha256Hex(fileAt url: URL) throws -> String {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// An incremental SHA-256 that also counts bytes: what a shard writer feeds as it writes.
struct RunningDigest {
    private var hasher = SHA256()
    private(set) var bytes = 0

    mutating func update(_ data: Data) {
        hasher.update(data: data)
        bytes += data.count
    }

    func hex() -> String { hasher.finalize().map { String(format: "%02x", $0) }.joined() }
}
