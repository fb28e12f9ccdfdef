import Crypto
import Foundation

/// A small seeded generator (SplitMix64), so shuffles depend only on the seed, never on the platform.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A seed from text (the question id and the run seed): the first 8 bytes of its sha256.
    public init(text: String) {
        let digest = Array(SHA256.hash(data: Data(text.utf8)))
        state = digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
