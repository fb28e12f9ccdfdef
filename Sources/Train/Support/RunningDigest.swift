import Dataset
import Crypto
import Foundation

/// An incremental SHA-256 that also counts bytes: what a shard writer feeds as it writes.
struct RunningDigest {
    private var hasher = SHA256()
    private(set) var bytes = 0

    mutating func update(_ data: Data) {
        hasher.update(data: data)
        bytes += data.count
    }

    func hex() -> String { ContentHash.hex(hasher.finalize()) }
}
