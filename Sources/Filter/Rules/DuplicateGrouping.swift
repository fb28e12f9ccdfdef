import Foundation

/// Duplicate grouping within a keyword: the best image (most pixels, then best search rank, then smallest sha256 for
/// a stable order) is kept, and every image that matches a kept one is dropped as its duplicate. One rule of "best"
/// for every notion of "the same picture": near pHashes (`group`, Hamming distance ≤ `maxDistance`) and near
/// embeddings (`keepBest(_:matching:)` with a cosine threshold, `SemanticDuplicatesStage`).
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

    /// What decides which of two duplicates is kept.
    public struct Quality: Sendable, Equatable {
        public let sha256: String
        public let pixels: Int
        public let searchRank: Int

        public init(sha256: String, pixels: Int, searchRank: Int) {
            self.sha256 = sha256
            self.pixels = pixels
            self.searchRank = searchRank
        }

        /// Better first: more pixels, then a better (lower) search rank, then the smaller hash.
        public static func isBetter(_ a: Quality, than b: Quality) -> Bool {
            if a.pixels != b.pixels { return a.pixels > b.pixels }
            if a.searchRank != b.searchRank { return a.searchRank < b.searchRank }
            return a.sha256 < b.sha256
        }
    }

    public let maxDistance: Int

    public init(maxDistance: Int) { self.maxDistance = maxDistance }

    public static func hamming(_ a: UInt64, _ b: UInt64) -> Int { (a ^ b).nonzeroBitCount }

    /// pHash grouping: a member within `maxDistance` bits of a kept one is its duplicate.
    public func group(_ members: [Member]) -> [String: Verdict] {
        let maxDistance = self.maxDistance
        let verdicts = Self.keepBest(members, quality: { Quality(sha256: $0.sha256, pixels: $0.pixels, searchRank: $0.searchRank) }) { kept, member in
            let distance = Self.hamming(kept.phash, member.phash)
            return distance <= maxDistance ? distance : nil
        }
        return verdicts.mapValues { match in match.map { .duplicate(of: $0.of, distance: $0.measure) } ?? .kept }
    }

    /// The grouping itself, for any notion of a match: members are taken best first (`Quality.isBetter`); one that
    /// `matches` a member kept before it is its duplicate (the first such kept member, with the measure `matches`
    /// returned), any other is kept. Returns, per sha256, nil for kept or the member it duplicates.
    public static func keepBest<Item, Measure>(_ items: [Item], quality: (Item) -> Quality,
                                               matches: (_ kept: Item, _ candidate: Item) -> Measure?) -> [String: (of: String, measure: Measure)?] {
        let ordered = items.map { ($0, quality($0)) }.sorted { Quality.isBetter($0.1, than: $1.1) }
        var kept: [(Item, Quality)] = []
        var verdicts: [String: (of: String, measure: Measure)?] = [:]
        for (item, q) in ordered {
            var match: (of: String, measure: Measure)?
            for (keptItem, keptQuality) in kept {
                if let measure = matches(keptItem, item) { match = (keptQuality.sha256, measure); break }
            }
            if let match {
                verdicts[q.sha256] = .some(match)
            } else {
                kept.append((item, q))
                verdicts[q.sha256] = .some(nil)
            }
        }
        return verdicts
    }
}
