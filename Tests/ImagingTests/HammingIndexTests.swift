import Imaging
import Testing
import Dataset

/// The multi-index lookup finds exactly what comparing with every hash finds, at every distance (including the
/// ones where it falls back to comparing with every hash), for neighbours planted at the edge of the distance.
@Suite struct HammingIndexTests {
    /// Random hashes from a seed (`SeededGenerator`, SplitMix64), and neighbours of them.
    struct Mix {
        var generator: SeededGenerator
        init(state: UInt64) { generator = SeededGenerator(seed: state) }
        mutating func next() -> UInt64 { generator.next() }
        /// `hash` with `bits` distinct random bits flipped.
        mutating func flip(_ hash: UInt64, bits: Int) -> UInt64 {
            var positions: Set<UInt64> = []
            while positions.count < bits { positions.insert(next() % 64) }
            return positions.reduce(hash) { $0 ^ (1 << $1) }
        }
    }

    @Test(arguments: [-1, 0, 1, 3, 8, 10, 15, 20, 40, 63, 64])
    func findsExactlyWhatThePairwiseComparisonFinds(distance: Int) {
        var mix = Mix(state: UInt64(bitPattern: Int64(distance)) &+ 7)
        let stored = (0..<400).map { _ in mix.next() }
        var index = HammingIndex<Int>(distance: distance)
        for (i, hash) in stored.enumerated() { index.insert(hash, i) }
        #expect(index.count == 400)
        // Queries: random ones, and neighbours of stored hashes at the distance, one past it, and in between.
        var queries = (0..<200).map { _ in mix.next() }
        for i in stride(from: 0, to: 400, by: 7) {
            for bits in Set([0, max(0, distance / 2), max(0, distance), min(64, distance + 1)]) {
                queries.append(mix.flip(stored[i], bits: bits))
            }
        }
        for query in queries {
            let expected = stored.indices.filter { distance >= 0 && (stored[$0] ^ query).nonzeroBitCount <= distance }
            let found = index.neighbours(of: query)
            #expect(found.map(\.value) == expected, "query \(String(query, radix: 16)) at distance \(distance)")
            #expect(found.allSatisfy { $0.distance == (stored[$0.value] ^ query).nonzeroBitCount })
            #expect(index.containsNeighbour(of: query) == !expected.isEmpty)
            if let first = expected.first {
                #expect(index.containsNeighbour(of: query) { $0 != first } == (expected.count > 1))
            }
        }
    }

    @Test func aNeighbourAtExactlyTheDistanceIsFoundAndOnePastItIsNot() {
        var mix = Mix(state: 42)
        var index = HammingIndex<String>(distance: 8)
        let base = mix.next()
        index.insert(base, "base")
        for _ in 0..<50 {
            #expect(index.containsNeighbour(of: mix.flip(base, bits: 8)))
            #expect(!index.containsNeighbour(of: mix.flip(base, bits: 9)))
        }
    }
}
