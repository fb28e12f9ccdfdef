/// Finds the 64-bit perceptual hashes within a Hamming distance of a query without comparing it with all of
/// them: multi-index hashing (Norouzi, Punjani & Fleet, "Fast Search in Hamming Space with Multi-Index Hashing").
///
/// Each hash is cut into `distance + 1` disjoint bit blocks and filed under each block's value. Two hashes within
/// `distance` differ in at most `distance` bits, so by the pigeonhole principle at least one block is equal: a
/// query looks up its own blocks and compares only the hashes found there. At distance 8 (nine blocks of about
/// seven bits) that is about a hundredth of the set per block instead of all of it. Exact: it finds every hash
/// the pairwise comparison finds. Above a distance where the blocks get too narrow to select anything, it falls
/// back to comparing with every hash.
public struct HammingIndex<Value>: Sendable where Value: Sendable {
    public let distance: Int
    private var entries: [(hash: UInt64, value: Value)] = []
    /// Per block: the entries (indices into `entries`) by the block's bits.
    private var tables: [[UInt64: [Int]]]
    /// (shift, mask) of each block.
    private let blocks: [(shift: UInt64, mask: UInt64)]

    /// Blocks narrower than this select too little to be worth a lookup.
    private static var narrowestBlock: Int { 4 }

    public init(distance: Int) {
        self.distance = distance
        let count = distance + 1
        if distance >= 0, 64 / count >= Self.narrowestBlock {
            var blocks: [(UInt64, UInt64)] = []
            var start = 0
            for i in 0..<count {
                // Widths differ by at most one bit and add up to 64.
                let width = 64 / count + (i < 64 % count ? 1 : 0)
                blocks.append((UInt64(start), width == 64 ? .max : (UInt64(1) << UInt64(width)) - 1))
                start += width
            }
            self.blocks = blocks
        } else {
            self.blocks = []
        }
        tables = Array(repeating: [:], count: blocks.count)
    }

    public var count: Int { entries.count }

    public mutating func insert(_ hash: UInt64, _ value: Value) {
        let index = entries.count
        entries.append((hash, value))
        for (b, block) in blocks.enumerated() {
            tables[b][(hash >> block.shift) & block.mask, default: []].append(index)
        }
    }

    /// Whether some stored entry accepted by `where` is within `distance` of `hash`.
    public func containsNeighbour(of hash: UInt64, where accept: (Value) -> Bool = { _ in true }) -> Bool {
        guard distance >= 0 else { return false }
        if blocks.isEmpty {
            return entries.contains { ($0.hash ^ hash).nonzeroBitCount <= distance && accept($0.value) }
        }
        for (b, block) in blocks.enumerated() {
            guard let candidates = tables[b][(hash >> block.shift) & block.mask] else { continue }
            for i in candidates where (entries[i].hash ^ hash).nonzeroBitCount <= distance && accept(entries[i].value) {
                return true
            }
        }
        return false
    }

    /// Every stored entry within `distance` of `hash`, each once, with its distance, in insertion order.
    public func neighbours(of hash: UInt64) -> [(value: Value, distance: Int)] {
        guard distance >= 0 else { return [] }
        var found: Set<Int> = []
        if blocks.isEmpty {
            for i in entries.indices where (entries[i].hash ^ hash).nonzeroBitCount <= distance { found.insert(i) }
        } else {
            for (b, block) in blocks.enumerated() {
                for i in tables[b][(hash >> block.shift) & block.mask] ?? [] where (entries[i].hash ^ hash).nonzeroBitCount <= distance {
                    found.insert(i)
                }
            }
        }
        return found.sorted().map { (entries[$0].value, (entries[$0].hash ^ hash).nonzeroBitCount) }
    }
}
