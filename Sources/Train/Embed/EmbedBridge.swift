import Dataset
import Foundation

/// One run of `trainer/embed.py` over an `EmbedWork`: writes its items file, starts it (`CleanSpawn`, so Ctrl-C
/// reaches it), reads its JSON lines on a thread and records each batch in the `EmbeddingStore` as it comes — the
/// bridge blocks on a slow write, so Python waits rather than piling up vectors. Cancelling the task stops the child
/// (SIGTERM); the batches recorded before stay.
struct EmbedBridge {
    struct Outcome {
        var images = 0
        var keywords = 0
        var failures: [String] = []
        var interrupted = false
        var record: EmbeddingModelRecord?
    }

    let settings: EmbedSettings
    let folder: URL
    let work: EmbedWork
    let workspace: Workspace
    let modelID: String
    let progress: ProgressReporter

    func run() async throws -> Outcome {
        let fm = FileManager.default
        let itemsURL = workspace.root.appendingPathComponent("\(EmbeddingStore.folder)/.items-\(getpid()).jsonl")
        try fm.createDirectory(at: itemsURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(work.itemsJSONL(workspaceRoot: workspace.root).utf8).write(to: itemsURL)
        defer { try? fm.removeItem(at: itemsURL) }

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [settings.python, settings.script.path, "--model", folder.path, "--items", itemsURL.path,
                             "--batch-size", "\(settings.embeddings.batchSize)", "--device", settings.embeddings.device.rawValue]
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONUNBUFFERED"] = "1"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice

        let recorder = Recorder(work: work, workspace: workspace, modelID: modelID, folder: folder, progress: progress)
        recorder.delay = settings.delayPerBatch
        let state = BridgeState(recorder: recorder)
        let readers = DispatchGroup()
        readers.enter()
        Thread.detachNewThread {
            LineReader.read(out.fileHandleForReading) { line in
                guard let event = EmbedEvent.parse(line) else { return }
                if !state.handle(event), process.isRunning { kill(process.processIdentifier, SIGTERM) }
            }
            readers.leave()
        }
        readers.enter()
        Thread.detachNewThread {
            LineReader.read(err.fileHandleForReading) { state.stderr($0) }
            readers.leave()
        }
        do {
            try CleanSpawn.run(process)
        } catch {
            throw EmbeddingError(.bridgeFailed, item: settings.python,
                                 "cannot start it (\(error.localizedDescription)); pass --python PATH or run `dsbuild train --setup`")
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().async {
                    process.waitUntilExit()
                    readers.wait()
                    continuation.resume()
                }
            }
        } onCancel: {
            state.markInterrupted()
            if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        }
        var outcome = try state.finish()
        if outcome.interrupted { return outcome }
        if process.terminationStatus == 127 && state.fatal == nil {
            throw EmbeddingError(.bridgeFailed, item: settings.python, "not found; pass --python PATH or run `dsbuild train --setup`")
        }
        if let failure = state.fatal ?? (process.terminationStatus != 0 ? state.lastStderr : nil) {
            let code: EmbeddingError.Code = process.terminationStatus == 2 ? .unsupportedModel : .bridgeFailed
            throw EmbeddingError(code, item: folder.path, "\(failure.isEmpty ? "embed.py exited with status \(process.terminationStatus)" : failure)")
        }
        outcome.interrupted = false
        return outcome
    }
}

/// Turns the bridge's events into recorded vectors. Called on the reader thread only.
private final class Recorder {
    let work: EmbedWork
    let workspace: Workspace
    let modelID: String
    let folder: URL
    let progress: ProgressReporter
    var store: EmbeddingStore?
    var outcome = EmbedBridge.Outcome()
    var delay: Duration = .zero
    private let keywordTexts: [String: (Int64, String)]
    private let imageNames: [String: EmbedWork.Image]

    init(work: EmbedWork, workspace: Workspace, modelID: String, folder: URL, progress: ProgressReporter) {
        self.work = work
        self.workspace = workspace
        self.modelID = modelID
        self.folder = folder
        self.progress = progress
        keywordTexts = Dictionary(work.keywords.map { (String($0.id), ($0.id, $0.text)) }, uniquingKeysWith: { a, _ in a })
        imageNames = Dictionary(work.images.map { ($0.sha256, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Records the event; returns a fatal error's message instead of recording, or throws on a storage failure.
    func record(_ event: EmbedEvent) throws -> String? {
        switch event {
        case .model(let family, let dim, _):
            guard dim > 0 else { return "embed.py reported vectors of size \(dim)" }
            let opened = try EmbeddingStore.open(workspace: workspace, id: modelID, path: folder.path, family: family, dim: dim)
            store = opened.store
            outcome.record = opened.store.record
        case .batch(let kind, let ids, let vectors):
            guard let store else { return "embed.py sent vectors before it named its model" }
            let owners: [EmbeddingStore.Owner] = ids.compactMap { id in
                if kind == "text" { return keywordTexts[id].map { .keyword(id: $0.0, text: $0.1) } }
                return imageNames[id] == nil ? nil : .image(sha256: id)
            }
            guard owners.count == ids.count else { return "embed.py sent vectors of items it was not asked for" }
            try store.append(owners, vectors: vectors)
            outcome.record = store.record
            if kind == "text" { outcome.keywords += ids.count } else { outcome.images += ids.count }
            progress.advance(by: ids.count)
            if delay > .zero { Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18) }
        case .skip(let id, let path, let reason):
            let image = imageNames[id]
            let keywords = image.map { " (\($0.keywords.joined(separator: ", ")))" } ?? ""
            let source = image.map { $0.source.isEmpty ? "" : ", from \($0.source)" } ?? ""
            let message = "embed: image \(image?.path ?? path)\(keywords)\(source) cannot be read (\(reason)); it has no embedding, the others were embedded"
            outcome.failures.append(message)  // printed once, by the runner, with the run's other failures
            progress.advance(failed: true)
        case .error(let message):
            return message
        case .end, .other:
            break
        }
        return nil
    }
}

/// The bridge's shared state: the recorder (reader thread), the first fatal error, the stderr tail.
private final class BridgeState: @unchecked Sendable {
    // Guarded by `lock`: the stdout reader records, the stderr reader appends, the canceller marks.
    private let lock = NSLock()
    private let recorder: Recorder
    private var storageError: (any Error)?
    private(set) var fatal: String?
    private var tail: [String] = []
    private var interrupted = false

    init(recorder: Recorder) { self.recorder = recorder }

    /// Records one event; false when the child must be stopped (a storage failure, or vectors it cannot place).
    /// A fatal error the child reports itself is kept, and the child left to exit with its status.
    func handle(_ event: EmbedEvent) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard storageError == nil, fatal == nil else { return false }
        do {
            if let message = try recorder.record(event) {
                fatal = message
                if case .error = event { return true }
                return false
            }
        } catch {
            storageError = error
            return false
        }
        return true
    }

    func stderr(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        tail.append(line)
        if tail.count > 20 { tail.removeFirst(tail.count - 20) }
    }

    var lastStderr: String {
        lock.lock()
        defer { lock.unlock() }
        return tail.last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) ?? ""
    }

    func markInterrupted() {
        lock.lock()
        interrupted = true
        lock.unlock()
    }

    /// The outcome, or the storage failure that stopped the run.
    func finish() throws -> EmbedBridge.Outcome {
        lock.lock()
        defer { lock.unlock() }
        if let storageError { throw storageError }
        var outcome = recorder.outcome
        outcome.interrupted = interrupted
        return outcome
    }
}
