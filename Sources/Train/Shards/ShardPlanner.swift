import Crypto
import Dataset
import Foundation

/// Cuts one kind of record, arriving in sorted order, into shards as it goes: a shard is closed before the record
/// that would take it past `maxRecords` records or `maxBytes` planned bytes (unless it is empty), and its plan hash
/// is the SHA-256 of `prefix` followed by every record's plan piece (a text line; a paired sample's plan JSON,
/// text and image hash), hashed incrementally so that no shard's records need be held to plan it.
struct ShardPlanner {
    let kind: ShardWriter.Planned.Kind
    let maxRecords: Int
    let maxBytes: Int
    let prefix: Data
    /// The file of the shard numbered n (from 0).
    let file: (Int) -> String

    private(set) var plans: [ShardWriter.Planned] = []
    private var count = 0
    private var start = 0
    private var bytes = 0
    private var first: SortPosition?
    private var hasher = SHA256()

    init(kind: ShardWriter.Planned.Kind, maxRecords: Int, maxBytes: Int, prefix: String, file: @escaping (Int) -> String) {
        self.kind = kind
        self.maxRecords = maxRecords
        self.maxBytes = maxBytes
        self.prefix = Data(prefix.utf8)
        self.file = file
    }

    /// The next record in sorted order: where it lies, its planned size and its piece of the plan hash.
    mutating func add(_ position: SortPosition, size: Int, piece: Data) {
        if count > start && (count - start >= maxRecords || bytes + size > maxBytes) { close() }
        if count == start {
            first = position
            hasher = SHA256()
            hasher.update(data: prefix)
        }
        hasher.update(data: piece)
        bytes += size
        count += 1
    }

    /// Closes the last shard; returns every plan.
    mutating func finish() -> [ShardWriter.Planned] {
        close()
        return plans
    }

    private mutating func close() {
        guard count > start, let first else { return }
        plans.append(ShardWriter.Planned(kind: kind, file: file(plans.count), range: start..<count, first: first,
                                         planHash: ContentHash.hex(hasher.finalize())))
        start = count
        bytes = 0
        self.first = nil
    }
}
