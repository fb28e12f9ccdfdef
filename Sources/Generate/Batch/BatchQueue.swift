import Dataset
import Foundation
import Synchronization

/// One request a stage pass wanted but found no answer for in `llm_cache`, kept for the Batch API: its cache key
/// (the batch line's `custom_id`), model and the exact body the online path would have sent.
public struct QueuedRequest: Sendable, Equatable {
    public var key: String
    public var model: String
    public var purpose: String
    public var body: Data

    public init(key: String, model: String, purpose: String, body: Data) {
        self.key = key
        self.model = model
        self.purpose = purpose
        self.body = body
    }
}

/// Where a client in batch mode (`llm.batch`) puts the requests it does not send, and what it needs to know of the
/// batches: the keys a batch answered during this command (their cached answer is final, also under `--refresh`
/// or for a judge whose cached non-answer would otherwise be asked again), and the requests whose batches
/// failed them too often (their items fail with that error instead of being queued forever).
///
/// A pass fills it (`defer`), the `BatchDriver` drains it, submits, merges, and runs the pass again.
public final class BatchQueue: Sendable {
    private struct State {
        var queued: [String: QueuedRequest] = [:]
        var order: [String] = []
        var answered: Set<String> = []
        var exhausted: [String: String] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Queues a request (once per key) and returns the error the client throws for it: `deferred`, or — for a
    /// request its batches failed too often — `unavailable` with the batch's last error.
    func enqueue(_ request: QueuedRequest) -> ChatError {
        state.withLock { state in
            if let error = state.exhausted[request.key] {
                return ChatError(.unavailable, "the Batch API failed request \(request.key.prefix(12)) on every submission: \(error)")
            }
            if state.queued[request.key] == nil {
                state.queued[request.key] = request
                state.order.append(request.key)
            }
            return ChatError(.deferred, "queued for the Batch API (request \(request.key.prefix(12)))")
        }
    }

    /// True when `key` is queued already (asked again by a later pass before its batch is submitted).
    public func holds(_ key: String) -> Bool { state.withLock { $0.queued[key] != nil } }

    /// True when a batch answered `key` during this command: its cached answer is replayed as a fresh one.
    public func wasAnswered(_ key: String) -> Bool { state.withLock { $0.answered.contains(key) } }

    /// The requests queued since the last drain, in the order the pass asked them; the queue is empty after.
    public func drain() -> [QueuedRequest] {
        state.withLock { state in
            let requests = state.order.compactMap { state.queued[$0] }
            state.queued = [:]
            state.order = []
            return requests
        }
    }

    public var count: Int { state.withLock { $0.queued.count } }

    func markAnswered<S: Sequence>(_ keys: S) where S.Element == String {
        state.withLock { $0.answered.formUnion(keys) }
    }

    /// Forgets which requests were exhausted: a new run decides again from its own batches.
    func clearExhausted() {
        state.withLock { $0.exhausted = [:] }
    }

    func markExhausted(_ key: String, error: String) {
        state.withLock { $0.exhausted[key] = error }
    }
}
