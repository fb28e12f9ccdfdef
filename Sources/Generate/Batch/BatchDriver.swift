import Dataset
import Foundation
import Logging
import Synchronization

/// Runs a stage through the Batch API: resume what an earlier process left in flight, run a pass (the client
/// queues every request the cache cannot answer, `BatchQueue`), submit the queue (input files split by model and
/// limits, uploaded, batches created), poll with backoff until each batch ends, merge its output and error files
/// into `llm_cache`, and run the pass again — a re-ask after a reply that fails validation is a new request, so
/// this repeats, at most `maxRounds` submissions, until a pass queues nothing.
///
/// Every step is written to the manifest first (`BatchStore`): a kill at any point leaves rows a rerun resumes —
/// a staged file never uploaded is abandoned (its requests pending again), an uploaded one is looked up among the
/// provider's batches before one is created, a created one is polled — so no request is submitted twice while a
/// batch holds it. A request goes to a batch or online, never both: in batch mode the client never sends.
public struct BatchDriver: Sendable {
    public let api: BatchAPI
    public let store: BatchStore
    public let queue: BatchQueue
    public let settings: BatchSettings
    public let logger: Logger
    public let progress: ProgressReporter?
    /// Called after each step of a submission (`staged`, `uploaded`, `created`, `polled`): tests stop a process there.
    public var onStep: (@Sendable (String) -> Void)?

    public init(api: BatchAPI, store: BatchStore, queue: BatchQueue, settings: BatchSettings, logger: Logger,
                progress: ProgressReporter? = nil) {
        self.api = api
        self.store = store
        self.queue = queue
        self.settings = settings
        self.logger = logger
        self.progress = progress
    }

    /// Runs `pass` until it queues nothing (or the rounds run out); returns its last result and what was done.
    public func run<T: Sendable>(_ pass: () async throws -> T) async throws -> (T, BatchReport) {
        var report = BatchReport()
        try await settle(&report, resuming: true)
        var result = try await nextPass(pass, &report)
        var round = 0
        while queue.count > 0 {
            // An interrupted pass submits nothing: what it queued is queued again by the rerun.
            try Task.checkCancellation()
            guard round < settings.maxRounds else {
                report.left = queue.drain().count
                break
            }
            round += 1
            try await submit(queue.drain(), &report)
            try await settle(&report)
            result = try await nextPass(pass, &report)
        }
        return (result, report)
    }

    private func nextPass<T>(_ pass: () async throws -> T, _ report: inout BatchReport) async throws -> T {
        for (key, error) in try await store.exhausted(attempts: settings.maxAttempts) { queue.markExhausted(key, error: error) }
        report.passes += 1
        return try await pass()
    }

    /// Writes, uploads and creates batches for `requests`, leaving out any a batch in flight already holds.
    func submit(_ requests: [QueuedRequest], _ report: inout BatchReport) async throws {
        var held = Set<String>()
        for row in try await store.inFlight() { held.formUnion(try await store.keys(of: row.id)) }
        let fresh = requests.filter { !held.contains($0.key) }
        let purposes = Dictionary(fresh.map { ($0.key, $0.purpose) }, uniquingKeysWith: { a, _ in a })
        for file in try BatchInputFile.split(fresh, maxRequests: settings.maxRequests, maxBytes: settings.maxBytes) {
            let row = try await store.stage(file, purposes: purposes)
            onStep?("staged")
            let fileID = try await api.uploadFile(file.data, filename: "dsbuild-batch-\(row).jsonl")
            try await store.setUploaded(row, fileID: fileID)
            onStep?("uploaded")
            let batch = try await api.createBatch(inputFileID: fileID, metadata: Self.metadata(row: row))
            try await store.update(row, with: batch, polled: false)
            onStep?("created")
            report.submitted += file.keys.count
            report.batches += 1
            note("submitted batch \(batch.id): \(file.keys.count) requests for \(file.model) (\(file.data.count) bytes)")
        }
    }

    /// Brings every batch in flight to its end and merges it; cancels each first when `cancelling`.
    /// `resuming`: the batches were left by an earlier process (counted `resumed`).
    func settle(_ report: inout BatchReport, cancelling: Bool = false, resuming: Bool = false) async throws {
        for record in try await store.inFlight() {
            if record.batchID == nil && record.inputFileID == nil {
                // Staged by a killed process before its upload finished: nothing was submitted as a batch.
                try await store.merge(record.id, model: record.model, outcomes: Dictionary(
                    try await store.keys(of: record.id).map { ($0, BatchStore.Outcome(state: .cancelled, error: "never uploaded")) },
                    uniquingKeysWith: { a, _ in a }), status: "abandoned")
                continue
            }
            var batch: BatchObject
            if let id = record.batchID {
                do {
                    batch = try await api.retrieve(id)
                } catch let error as BatchError where error.code == .notFound {
                    // The endpoint does not know it (another endpoint or key, or deleted): its requests are pending
                    // again rather than every later run stopping on it.
                    try await store.merge(record.id, model: record.model, outcomes: Dictionary(
                        try await store.keys(of: record.id).map { ($0, BatchStore.Outcome(state: .cancelled, error: error.message)) },
                        uniquingKeysWith: { a, _ in a }), status: "lost")
                    note("batch \(id) is unknown to \(api.baseURL.host ?? "the endpoint") (404): marked lost, its requests are pending again")
                    continue
                }
                report.polls += 1
            } else if let found = try await api.list().first(where: { $0.inputFileID == record.inputFileID }) {
                // Created by a process killed before it could record the batch: adopted, not created again.
                batch = found
            } else {
                batch = try await api.createBatch(inputFileID: record.inputFileID!, metadata: Self.metadata(row: record.id))
                report.submitted += record.requestCount
                report.batches += 1
            }
            if resuming { report.resumed += 1 }
            try await store.update(record.id, with: batch, polled: record.batchID != nil)
            if cancelling && !batch.isTerminal {
                batch = try await api.cancel(batch.id)
                try await store.update(record.id, with: batch, polled: false)
                note("cancelling batch \(batch.id)")
            }
            var wait = settings.pollSeconds
            while !batch.isTerminal {
                try await Task.sleep(for: .seconds(wait))
                batch = try await api.retrieve(batch.id)
                report.polls += 1
                try await store.update(record.id, with: batch, polled: true)
                onStep?("polled")
                wait = min(wait * 2, settings.pollMaxSeconds)
                logger.debug("batch polled", metadata: ["batch.id": "\(batch.id)", "batch.status": "\(batch.status)",
                                                        "batch.completed": "\(batch.completed)/\(batch.total)"])
            }
            try await merge(record, batch, &report)
        }
    }

    private func merge(_ record: BatchRecord, _ batch: BatchObject, _ report: inout BatchReport) async throws {
        let output = try await batch.outputFileID.asyncMap { try await api.fileContent($0) }
        let errors = try await batch.errorFileID.asyncMap { try await api.fileContent($0) }
        let keys = try await store.keys(of: record.id)
        let outcomes = BatchResults.outcomes(keys: keys, output: output, errors: errors, batch: batch)
        try await store.merge(record.id, model: record.model, outcomes: outcomes)
        let succeeded = outcomes.filter { $0.value.state == .succeeded }
        queue.markAnswered(succeeded.keys)
        report.succeeded += succeeded.count
        report.failed += outcomes.values.filter { $0.state == .failed }.count
        report.expired += outcomes.values.filter { $0.state == .expired }.count
        report.cancelled += outcomes.values.filter { $0.state == .cancelled }.count
        for outcome in succeeded.values {
            report.promptTokens += outcome.usage.promptTokens
            report.completionTokens += outcome.usage.completionTokens
        }
        note("batch \(batch.id) \(batch.status): \(succeeded.count) of \(keys.count) answered")
    }

    /// Cancels every batch in flight (`POST /batches/{id}/cancel`), waits for each to end and merges what it
    /// finished; its other requests are pending again.
    public func cancelAll() async throws -> BatchReport {
        var report = BatchReport()
        try await settle(&report, cancelling: true, resuming: true)
        return report
    }

    /// Resumes and merges every batch in flight without running a pass.
    public func settleAll() async throws -> BatchReport {
        var report = BatchReport()
        try await settle(&report, resuming: true)
        return report
    }

    static func metadata(row: Int64) -> [String: String] { ["dsbuild_batch_row": "\(row)"] }

    private func note(_ text: String) {
        logger.info("\(text)")
        progress?.message(text)
    }
}

extension Optional {
    func asyncMap<U>(_ transform: (Wrapped) async throws -> U) async rethrows -> U? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
