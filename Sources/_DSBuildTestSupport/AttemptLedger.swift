import Synchronization

/// Counts requests per key (a file name, a request body's hash) so a scripted fault can depend on the attempt
/// ("503 twice, then the file"). `reset` starts a new series, so two runs from scratch see the same faults.
public final class AttemptLedger: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    public init() {}

    /// Counts one more request for `key` and returns its number (1 for the first).
    @discardableResult
    public func next(_ key: String) -> Int {
        counts.withLock { counts in
            counts[key, default: 0] += 1
            return counts[key]!
        }
    }

    public func count(_ key: String) -> Int { counts.withLock { $0[key, default: 0] } }

    /// Every key with its count.
    public var snapshot: [String: Int] { counts.withLock { $0 } }

    public var total: Int { counts.withLock { $0.values.reduce(0, +) } }

    public func reset() { counts.withLock { $0 = [:] } }
}
