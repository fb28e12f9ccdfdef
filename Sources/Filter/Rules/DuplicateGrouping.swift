import Foundation

/// Exact and near-duplicate grouping by 64-bit perceptual hash. Within a keyword the best image (most pixels,
/// then best search rank, then smallest sha256 for a stable order) is kept and every image within the Hamming
/// threshold of a kept one is dropped as its duplicate.
public struct DuplicateGrouping: Sendable {
    public struct Member: Sendable, Equatable {
        public let sha256: String
        public let phash: UInt64
        public let pixels: Int
        public let searchRank: Int

        public init(sha256: String, phash: UInt64, pixels: Int, searchRank: Int) {
            self.sha256 = sha256
            self.phash = phash
            self.pixels = pixels
            self.searchRank = searchRank
        }
    }

    /// What happened to one member: kept, or a duplicate of `of` at `distance`.
    public enum Verdict: Sendable, Equatable {
        case kept
        case duplicate(of: String, distance: Int)
    }

    public let maxDistance: Int

    public init(maxDistance: Int) { self.maxDistance = maxDistance }

    public static func hamming(_ a: UInt64, _ b: UInt64) -> Int { (a ^ b).nonzeroBitCount }

    public func group(_ members: [Member]) -> [String: Verdict] {
        let ordered = members.sorted {
            if $0.pixels != $1.pixels { return $0.pixels > $1.pixels }
            if $0.searchRank != $1.searchRank { return $0.searchRank < $1.searchRank }
            return $0.sha256 < $1.sha256
        }
        var kept: [Member] = []
        var verdicts: [String: Verdict] = [:]
        for member in ordered {
            if let match = kept.lazy.map({ ($0, Self.hamming($0.phash, member.phash)) }).first(where: { $0.1 <= maxDistance }) {
                verdicts[member.sha256] = .duplicate(of: match.0.sha256, distance: match.1)
            } else {
                kept.append(member)
                verdicts[member.sha256] = .kept
            }
        }
        return verdicts
    }
}
