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
    /// What `problem` said during this driver's life, in order (copied into each report a public entry returns).
    private let reported = ProblemLog()
    /// The token counts of the requests this driver submitted, by key (not their bodies: images make those large).
    private let bodies = BodyLog()

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
    /// A budget stop (`llm.budget`) during a pass still submits what that pass queued — those requests were admitted
    /// and counted — and settles them before the stop is thrown, so each run makes progress up to the budget.
    public func run<T: Sendable>(_ pass: () async throws -> T) async throws -> (T, BatchReport) {
        var report = BatchReport()
        let started = Date().timeIntervalSince1970
        queue.clearExhausted()
        try await settle(&report, resuming: true)
        var result = try await nextPass(pass, &report, since: started)
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
            result = try await nextPass(pass, &report, since: started)
        }
        report.problems = reported.all
        return (result, report)
    }

    private func nextPass<T>(_ pass: () async throws -> T, _ report: inout BatchReport, since: Double) async throws -> T {
        // Exhaustion holds for this command only: a request its batches failed too often in earlier commands is
        // submitted again by a new one.
        for (key, error) in try await store.exhausted(attempts: settings.maxAttempts, since: since) { queue.markExhausted(key, error: error) }
        report.passes += 1
        do {
            return try await pass()
        } catch let stop as ChatError where stop.code == .budgetExhausted && queue.count > 0 && !Task.isCancelled {
            let admitted = queue.drain()
            note("the budget stopped the pass: submitting the \(admitted.count) requests it admitted before the stop")
            try await submit(admitted, &report)
            try await settle(&report)
            throw stop
        }
    }

    /// Writes, uploads and creates batches for `requests`, leaving out any a batch in flight already holds.
    func submit(_ requests: [QueuedRequest], _ report: inout BatchReport) async throws {
        var held = Set<String>()
        for row in try await store.inFlight() { held.formUnion(try await store.keys(of: row.id)) }
        let fresh = requests.filter { !held.contains($0.key) }
        bodies.add(fresh)
        let purposes = Dictionary(fresh.map { ($0.key, $0.purpose) }, uniquingKeysWith: { a, _ in a })
        for file in try BatchInputFile.split(fresh, maxRequests: settings.maxRequests, maxBytes: settings.maxBytes) {
            let row = try await store.stage(file, purposes: purposes)
            onStep?("staged")
            let fileID = try await api.uploadFile(file.data, filename: "dsbuild-batch-\(row).jsonl")
            try await store.setUploaded(row, fileID: fileID)
            onStep?("uploaded")
            let batch: BatchObject
            do {
                batch = try await api.createBatch(inputFileID: fileID, metadata: Self.metadata(row: row))
            } catch let error as BatchError where error.isRefusal {
                try await refuse(row, model: file.model, fileID: fileID, error: error, &report)
                continue
            }
            try await store.update(row, with: batch, polled: false)
            onStep?("created")
            report.submitted += file.keys.count
            report.batches += 1
            note("submitted batch \(batch.id): \(file.keys.count) requests for \(file.model) (\(file.data.count) bytes)")
        }
    }

    /// The endpoint refused to create a batch of an uploaded file (400 invalid file, 404 no such file): that upload is
    /// abandoned and its requests are pending again, the refusal counted as one of their attempts.
    private func refuse(_ row: Int64, model: String, fileID: String, error: BatchError, _ report: inout BatchReport) async throws {
        let reason = "the endpoint refused to create a batch of input file \(fileID): \(error.message)"
        try await store.merge(row, model: model, outcomes: Dictionary(
            try await store.keys(of: row).map { ($0, BatchStore.Outcome(state: .failed, error: reason)) },
            uniquingKeysWith: { a, _ in a }), status: "refused")
        report.failed += try await store.keys(of: row).count
        problem("batch row \(row): \(reason) — its requests are pending again (each refusal counts as an attempt, llm.batch_max_attempts)")
    }

    /// Brings every batch in flight to its end and merges it; cancels each first when `cancelling` (then an error on
    /// one batch is reported and the others are still cancelled). `resuming`: the batches were left by an earlier
    /// process (counted `resumed`).
    func settle(_ report: inout BatchReport, cancelling: Bool = false, resuming: Bool = false) async throws {
        for record in try await store.inFlight() {
            do {
                try await settle(record, &report, cancelling: cancelling, resuming: resuming)
            } catch let error as BatchError where cancelling {
                problem("batch \(record.batchID ?? "row \(record.id)") was not cancelled: \(error.description)")
            }
        }
    }

    private func settle(_ record: BatchRecord, _ report: inout BatchReport, cancelling: Bool, resuming: Bool) async throws {
        if record.batchID == nil && record.inputFileID == nil {
            // Staged by a killed process before its upload finished: nothing was submitted as a batch.
            try await abandon(record, reason: "never uploaded")
            return
        }
        var batch: BatchObject
        if let id = record.batchID {
            guard let found = try await retrieveConfirmed(id, &report) else {
                try await lose(record, id: id, &report)
                return
            }
            batch = found
        } else if let found = try await api.find(notBefore: record.createdAt - 3600, { $0.inputFileID == record.inputFileID }) {
            // Created by a process killed before it could record the batch: adopted, not created again.
            batch = found
        } else if cancelling {
            // `batch cancel` never creates a batch: an upload no batch was made of is abandoned.
            try await abandon(record, reason: "uploaded but no batch was created; abandoned by batch cancel")
            report.cancelled += record.requestCount
            return
        } else {
            do {
                batch = try await api.createBatch(inputFileID: record.inputFileID!, metadata: Self.metadata(row: record.id))
            } catch let error as BatchError where error.isRefusal {
                try await refuse(record.id, model: record.model, fileID: record.inputFileID!, error: error, &report)
                return
            }
            report.submitted += record.requestCount
            report.batches += 1
        }
        if resuming { report.resumed += 1 }
        try await store.update(record.id, with: batch, polled: record.batchID != nil)
        if cancelling && !batch.isTerminal {
            do {
                batch = try await api.cancel(batch.id)
                note("cancelling batch \(batch.id)")
            } catch let error as BatchError where error.isRefusal {
                // "cannot cancel a completed batch": it may have ended meanwhile; then it is merged below.
                guard let now = try await retrieveConfirmed(batch.id, &report) else {
                    try await lose(record, id: batch.id, &report)
                    return
                }
                batch = now
                if !batch.isTerminal { throw error }
            }
            try await store.update(record.id, with: batch, polled: false)
        }
        var wait = settings.pollSeconds
        while !batch.isTerminal {
            try await Task.sleep(for: .seconds(wait))
            guard let polled = try await retrieveConfirmed(batch.id, &report) else {
                try await lose(record, id: batch.id, &report)
                return
            }
            batch = polled
            try await store.update(record.id, with: batch, polled: true)
            onStep?("polled")
            wait = min(wait * 2, settings.pollMaxSeconds)
            logger.debug("batch polled", metadata: ["batch.id": "\(batch.id)", "batch.status": "\(batch.status)",
                                                    "batch.completed": "\(batch.completed)/\(batch.total)"])
        }
        try await merge(record, batch, &report)
    }

    /// How many times a 404 on `GET /batches/{id}` is asked again, over growing waits, before the batch is lost.
    static let lostConfirmations = 4

    /// `GET /batches/{id}`; a 404 is not believed at once (an endpoint's replicas disagree for a while): asked again
    /// over growing waits and looked for in `GET /batches`. Nil only when every try says the endpoint does not know it.
    private func retrieveConfirmed(_ id: String, _ report: inout BatchReport) async throws -> BatchObject? {
        var wait = settings.pollSeconds
        for attempt in 1...Self.lostConfirmations {
            do {
                let batch = try await api.retrieve(id)
                report.polls += 1
                return batch
            } catch let error as BatchError where error.code == .notFound {
                logger.warning("batch \(id): 404 on poll \(attempt) of \(Self.lostConfirmations) before it is taken as lost")
            }
            if attempt < Self.lostConfirmations {
                try await Task.sleep(for: .seconds(wait))
                wait = min(wait * 2, settings.pollMaxSeconds)
            }
        }
        return try await api.find { $0.id == id }
    }

    /// A batch the endpoint does not know (404 on every poll, absent from its list): cancelled in case it still runs
    /// somewhere, and its requests are pending again, each loss counted as an attempt (`llm.batch_max_attempts`).
    private func lose(_ record: BatchRecord, id: String, _ report: inout BatchReport) async throws {
        _ = try? await api.cancel(id)
        let reason = "batch \(id) is unknown to \(api.baseURL.host ?? "the endpoint") (404 on \(Self.lostConfirmations) polls and absent from GET /batches)"
        try await store.merge(record.id, model: record.model, outcomes: Dictionary(
            try await store.keys(of: record.id).map { ($0, BatchStore.Outcome(state: .failed, error: reason)) },
            uniquingKeysWith: { a, _ in a }), status: "lost")
        report.failed += record.requestCount
        problem("\(reason): marked lost, its requests are pending again (counted as an attempt)")
    }

    /// Closes a row nothing was submitted for: its requests are pending again, no attempt counted.
    private func abandon(_ record: BatchRecord, reason: String) async throws {
        try await store.merge(record.id, model: record.model, outcomes: Dictionary(
            try await store.keys(of: record.id).map { ($0, BatchStore.Outcome(state: .cancelled, error: reason)) },
            uniquingKeysWith: { a, _ in a }), status: "abandoned")
    }

    /// How many times a result file is asked for before its batch's requests are taken as failed.
    static let downloadAttempts = 3

    /// The content of a result file, asked again over growing waits; nil and why when it cannot be had.
    private func download(_ id: String?, of batch: String, kind: String) async throws -> (Data?, String?) {
        guard let id else { return (nil, nil) }
        var wait = settings.pollSeconds
        var last = ""
        for attempt in 1...Self.downloadAttempts {
            do {
                return (try await api.fileContent(id), nil)
            } catch let error as BatchError {
                last = error.message
            }
            if attempt < Self.downloadAttempts {
                try await Task.sleep(for: .seconds(wait))
                wait = min(wait * 2, settings.pollMaxSeconds)
            }
        }
        return (nil, "the \(kind) file \(id) of batch \(batch) could not be downloaded after \(Self.downloadAttempts) tries (\(last))")
    }

    private func merge(_ record: BatchRecord, _ batch: BatchObject, _ report: inout BatchReport) async throws {
        let (output, outputProblem) = try await download(batch.outputFileID, of: batch.id, kind: "output")
        let (errors, errorsProblem) = try await download(batch.errorFileID, of: batch.id, kind: "error")
        let keys = try await store.keys(of: record.id)
        let unavailable = [outputProblem, errorsProblem].compactMap { $0 }
        var outcomes = BatchResults.outcomes(keys: keys, output: output, errors: errors, batch: batch,
                                             unavailable: unavailable.isEmpty ? nil : unavailable.joined(separator: "; "),
                                             maxLineBytes: settings.maxReplyBytes)
        outcomes = try await counted(outcomes, record)
        if batch.status == "failed", batch.errorLines.count > 0 {
            let lines = await inputLines(record)
            outcomes = Self.failedLines(outcomes, batch: batch, lines: lines)
        }
        try await store.merge(record.id, model: record.model, outcomes: outcomes)
        for text in unavailable {
            problem("\(text): its requests without a result are pending again (counted as an attempt)")
        }
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

    /// Tokens as the online path counts them: a reply with a usable count keeps it and gets dsbuild's approximation of
    /// its prompt beside it (`estimated_prompt_tokens`, the calibration); one without is counted at the request's worst
    /// case (its approximated prompt and its completion limit, else 1024) and calibrates nothing. The bodies are
    /// those this process submitted, else read back from the batch's input file.
    private func counted(_ outcomes: [String: BatchStore.Outcome], _ record: BatchRecord) async throws -> [String: BatchStore.Outcome] {
        let succeeded = outcomes.filter { $0.value.state == .succeeded }.map(\.key)
        guard !succeeded.isEmpty else { return outcomes }
        var counts = self.bodies.get(succeeded)
        if counts.count < succeeded.count, let id = record.inputFileID, let data = try? await api.fileContent(id) {
            let wanted = Set(succeeded)
            for line in data.split(separator: 0x0A) {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                      let key = object["custom_id"] as? String, wanted.contains(key), counts[key] == nil, let body = object["body"],
                      let bytes = try? JSONSerialization.data(withJSONObject: body) else { continue }
                counts[key] = RequestTokens.of(body: bytes)
            }
        }
        var result = outcomes
        for key in succeeded {
            guard var outcome = result[key], let tokens = counts[key] else { continue }
            if outcome.usageReported {
                outcome.estimatedPromptTokens = Int(tokens.prompt.rounded())
            } else {
                outcome.usage = ChatUsage(promptTokens: Int(tokens.prompt.rounded()), completionTokens: tokens.maxCompletion ?? 1024)
            }
            result[key] = outcome
        }
        return result
    }

    /// The custom_ids of the batch's input file in line order (nil when it cannot be downloaded).
    private func inputLines(_ record: BatchRecord) async -> [String]? {
        guard let id = record.inputFileID, let data = try? await api.fileContent(id) else { return nil }
        return data.split(separator: 0x0A).map { line in
            ((try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any])?["custom_id"] as? String ?? ""
        }
    }

    /// A batch that failed validation naming its bad lines: only those lines' requests failed (an attempt each); the
    /// others never ran and are pending again without an attempt counted. Without the input's lines, all failed.
    static func failedLines(_ outcomes: [String: BatchStore.Outcome], batch: BatchObject, lines: [String]?) -> [String: BatchStore.Outcome] {
        guard let lines else { return outcomes }
        let bad = Set(batch.errorLines.compactMap { $0 >= 1 && $0 <= lines.count ? lines[$0 - 1] : nil })
        guard !bad.isEmpty else { return outcomes }
        var result = outcomes
        for (key, outcome) in outcomes where outcome.state == .failed && !bad.contains(key) {
            result[key] = .init(state: .cancelled, error: "not run: batch \(batch.id) failed on other lines (\(batch.errors.joined(separator: "; ").prefix(200)))")
        }
        return result
    }

    /// Cancels every batch in flight (`POST /batches/{id}/cancel`), waits for each to end and merges what it
    /// finished; its other requests are pending again.
    public func cancelAll() async throws -> BatchReport {
        var report = BatchReport()
        try await settle(&report, cancelling: true, resuming: true)
        report.problems = reported.all
        return report
    }

    /// Resumes and merges every batch in flight without running a pass.
    public func settleAll() async throws -> BatchReport {
        var report = BatchReport()
        try await settle(&report, resuming: true)
        report.problems = reported.all
        return report
    }

    static func metadata(row: Int64) -> [String: String] { ["dsbuild_batch_row": "\(row)"] }

    private func note(_ text: String) {
        logger.info("\(text)")
        progress?.message(text)
    }

    /// Something went wrong with one batch and was dealt with: the command prints it (`BatchReport.problems`).
    private func problem(_ text: String) {
        logger.warning("\(text)")
        progress?.message(text)
        reported.append(text)
    }
}

extension Optional {
    func asyncMap<U>(_ transform: (Wrapped) async throws -> U) async rethrows -> U? {
        guard let self else { return nil }
        return try await transform(self)
    }
}

/// The problems a driver dealt with, shared by its copies.
final class ProblemLog: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// The token counts of the requests a driver submitted, shared by its copies.
final class BodyLog: Sendable {
    private let counts = Mutex<[String: RequestTokens]>([:])
    func add(_ requests: [QueuedRequest]) {
        let measured = requests.map { ($0.key, RequestTokens.of(body: $0.body)) }
        counts.withLock { for (key, tokens) in measured { $0[key] = tokens } }
    }
    func get(_ keys: [String]) -> [String: RequestTokens] {
        counts.withLock { all in Dictionary(keys.compactMap { key in all[key].map { (key, $0) } }, uniquingKeysWith: { a, _ in a }) }
    }
}
