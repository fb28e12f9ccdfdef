import Dataset
import Foundation
import GRDB
import Logging

/// Settings of one `dsbuild train` run.
public struct TrainSettings: Sendable {
    public var shards: URL
    public var mode: TrainMode
    public var model: String
    public var out: URL
    public var maxSteps: Int?
    public var epochs: Double?
    public var device: String?
    public var gpus = 1
    /// The Python interpreter (a venv's `bin/python`); `python3` on PATH by default.
    public var python = "python3"
    /// The folder holding `train.py`.
    public var trainerDirectory: URL
    /// Further trainer config keys (lr, batch_size, lora, …) from the recipe's `train:` section.
    public var extraJSON = "{}"
    public var verifyShards = true

    public init(shards: URL, mode: TrainMode, model: String, out: URL, trainerDirectory: URL) {
        self.shards = shards
        self.mode = mode
        self.model = model
        self.out = out
        self.trainerDirectory = trainerDirectory
    }

    /// The config file the trainer reads (`trainer/config.py`).
    public var config: [String: Any] {
        var c = (try? JSONSerialization.jsonObject(with: Data(extraJSON.utf8))) as? [String: Any] ?? [:]
        c["shards"] = shards.standardizedFileURL.path
        c["mode"] = mode.description
        c["model"] = model
        c["out"] = out.standardizedFileURL.path
        if let maxSteps { c["max_steps"] = maxSteps }
        if let epochs { c["epochs"] = epochs }
        if let device { c["device"] = device }
        return c
    }

    /// The command line: torchrun for more than one GPU, plain python otherwise.
    public func commandLine(configPath: String) -> [String] {
        let script = trainerDirectory.appendingPathComponent("train.py").path
        if gpus > 1 {
            return [python, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "\(gpus)", script, "--config", configPath]
        }
        return [python, script, "--config", configPath]
    }
}

/// How a run ended.
public struct TrainOutcome: Sendable {
    public var runID: Int64
    public var status: String
    public var totals: TrainerTotals?
    public var firstLoss: Double?
    public var finalLoss: Double?
    public var steps: Int
    public var wallSeconds: Double
    public var peakMemoryBytes: Int?
    public var energyJoules: Double?
    public var checkpoint: String?
    public var error: String?
    public var exitStatus: Int32

    public var json: [String: Any] {
        ["steps": steps, "first_loss": firstLoss ?? NSNull(), "final_loss": finalLoss ?? NSNull(), "wall_seconds": wallSeconds,
         "peak_memory_bytes": peakMemoryBytes ?? NSNull(), "checkpoint": checkpoint ?? NSNull(), "mode": mode,
         "status": status, "energy_joules": energyJoules ?? NSNull(), "train_run_id": runID, "error": error ?? NSNull()]
    }

    var mode = ""
}

public struct TrainError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case invalidShards = "invalid_shards", launch, trainerFailed = "trainer_failed", interrupted }
    public let code: Code
    public let message: String
    public init(_ code: Code, _ message: String) { self.code = code; self.message = message }
    public var description: String { message }
}

/// Launches the bundled trainer and owns everything around it: shard checks, the config, progress from its JSON
/// lines, Ctrl-C, and the `train_runs` record.
public struct TrainLauncher: Sendable {
    public let workspace: Workspace
    public let settings: TrainSettings
    public let logger: Logger
    public let progress: ProgressReporter
    /// Called with every protocol event (tests, `--verbose`).
    public var onEvent: (@Sendable (TrainerEvent) -> Void)?
    /// Echo the trainer's stderr to ours.
    public var passStderr = false

    public init(workspace: Workspace, settings: TrainSettings, logger: Logger = Logger(label: "dsbuild.train"),
                progress: ProgressReporter = ProgressReporter(style: .quiet)) {
        self.workspace = workspace
        self.settings = settings
        self.logger = logger
        self.progress = progress
    }

    /// Checks the shards; returns the index. Throws `invalidShards` with what is wrong.
    public func validate() throws -> ShardIndex {
        let index: ShardIndex
        do { index = try ShardIndex.load(settings.shards, verify: settings.verifyShards) } catch {
            throw TrainError(.invalidShards, "\(error)")
        }
        if let missing = settings.mode.missingData(in: index) { throw TrainError(.invalidShards, missing) }
        return index
    }

    public func run() async throws -> TrainOutcome {
        let index = try validate()
        let fm = FileManager.default
        try fm.createDirectory(at: settings.out, withIntermediateDirectories: true)
        let configURL = settings.out.appendingPathComponent("dsbuild-train-config.json")
        let configJSON = JSONText.encodeObject(settings.config)
        try AtomicFile.write(Data(configJSON.utf8), to: configURL)
        let shardFiles = (index.text + index.paired).map { ["file": $0.file, "sha256": $0.sha256, "samples": $0.samples] as [String: Any] }

        let runID = try RunRecord.start(command: "train", settingsJSON: configJSON, in: workspace.manifest)
        let trainRunID = try workspace.manifest.write { db in
            try db.execute(sql: """
                INSERT INTO train_runs(run_id, out_dir, mode, model, config, fingerprint, shards, status, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?)
                """, arguments: [runID, settings.out.standardizedFileURL.path, settings.mode.description, settings.model, configJSON,
                                 index.fingerprint, JSONText.encodeObject(shardFiles), Date().timeIntervalSince1970])
            return db.lastInsertedRowID
        }

        let energyBefore = GPUEnergy.totalJoules()
        let started = Date()
        let result = try await runProcess(configPath: configURL.path)
        let wall = Date().timeIntervalSince(started)
        let energyAfter = GPUEnergy.totalJoules()

        var outcome = TrainOutcome(runID: trainRunID, status: "finished", totals: result.totals, firstLoss: result.firstLoss,
                                   finalLoss: result.lastLoss, steps: result.lastStep, wallSeconds: result.totals?.wallSeconds ?? wall,
                                   peakMemoryBytes: result.peakMemory, energyJoules: nil, checkpoint: result.lastCheckpoint,
                                   error: nil, exitStatus: result.exitStatus)
        outcome.mode = settings.mode.description
        if let before = energyBefore, let after = energyAfter, after >= before { outcome.energyJoules = after - before }
        if let totals = result.totals {
            outcome.steps = totals.steps
            outcome.firstLoss = totals.firstLoss ?? outcome.firstLoss
            outcome.finalLoss = totals.finalLoss ?? outcome.finalLoss
            outcome.peakMemoryBytes = totals.peakMemoryBytes ?? outcome.peakMemoryBytes
            outcome.checkpoint = totals.checkpoint ?? outcome.checkpoint
        }
        if result.interrupted {
            outcome.status = "interrupted"
            outcome.error = "interrupted (Ctrl-C); rerun the same command to resume from the last checkpoint"
        } else if result.exitStatus != 0 || result.totals == nil {
            outcome.status = "failed"
            outcome.error = result.errorMessage
                ?? result.stderrTail.last(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty })
                ?? (result.exitStatus == 0 ? "the trainer exited without an end event" : "the trainer exited with status \(result.exitStatus)")
        }
        let final = outcome
        try workspace.manifest.write { db in
            try db.execute(sql: """
                UPDATE train_runs SET status = ?, steps = ?, first_loss = ?, final_loss = ?, wall_seconds = ?, peak_memory_bytes = ?,
                       energy_joules = ?, checkpoint = ?, error = ? WHERE id = ?
                """, arguments: [final.status, final.steps, final.firstLoss, final.finalLoss, final.wallSeconds, final.peakMemoryBytes,
                                 final.energyJoules, final.checkpoint, final.error, trainRunID])
        }
        try RunRecord.finish(id: runID, status: final.status, countsJSON: JSONText.encodeObject(["steps": final.steps]), in: workspace.manifest)
        switch final.status {
        case "finished": return final
        case "interrupted": throw TrainError(.interrupted, final.error ?? "interrupted")
        default:
            throw TrainError(.trainerFailed, "training failed (exit status \(final.exitStatus)): \(final.error ?? "unknown error")")
        }
    }

    // MARK: The process

    struct ProcessResult {
        var exitStatus: Int32 = 0
        var interrupted = false
        var totals: TrainerTotals?
        var errorMessage: String?
        var firstLoss: Double?
        var lastLoss: Double?
        var lastStep = 0
        var peakMemory: Int?
        var lastCheckpoint: String?
        var stderrTail: [String] = []
    }

    private func runProcess(configPath: String) async throws -> ProcessResult {
        let argv = settings.commandLine(configPath: configPath)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        var env = ProcessInfo.processInfo.environment
        env["PYTHONUNBUFFERED"] = "1"
        process.environment = env
        process.currentDirectoryURL = settings.trainerDirectory
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice

        let state = LockedState()
        let onEvent = self.onEvent
        let progress = self.progress
        let passStderr = self.passStderr
        let group = DispatchGroup()
        group.enter()
        Thread.detachNewThread {
            LineReader.read(out.fileHandleForReading) { line in
                guard let event = TrainerEvent.parse(line) else { return }
                state.apply(event, progress: progress)
                onEvent?(event)
            }
            group.leave()
        }
        group.enter()
        Thread.detachNewThread {
            LineReader.read(err.fileHandleForReading) { line in
                state.stderr(line)
                if passStderr { FileHandle.standardError.write(Data((line + "\n").utf8)) }
            }
            group.leave()
        }

        progress.start("train \(settings.mode)", total: settings.maxSteps ?? 0)
        do {
            try CleanSpawn.run(process)
        } catch {
            throw TrainError(.launch, "cannot start \(argv[0]): \(error.localizedDescription); pass --python PATH or run `dsbuild train --setup`")
        }
        // Cancelling the task (Ctrl-C or SIGTERM, through the CLI's process-wide handler) forwards SIGINT to the
        // trainer, which saves what it can and exits; the run is then recorded interrupted.
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().async {
                    process.waitUntilExit()
                    group.wait()
                    continuation.resume()
                }
            }
        } onCancel: {
            state.markInterrupted()
            if process.isRunning { kill(process.processIdentifier, SIGINT) }
        }
        progress.finish()
        var result = state.snapshot()
        result.exitStatus = process.terminationStatus
        if process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGINT { result.interrupted = true }
        if result.exitStatus == 127 && result.totals == nil && result.errorMessage == nil {
            result.errorMessage = "\(argv[0]) not found; pass --python PATH or run `dsbuild train --setup`"
        }
        return result
    }
}

/// The parser's state, shared between the reader threads and the caller.
private final class LockedState: @unchecked Sendable {
    // Guarded by `lock`: written by the two reader threads and the signal handler.
    private let lock = NSLock()
    private var result = TrainLauncher.ProcessResult()

    func apply(_ event: TrainerEvent, progress: ProgressReporter) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case .start(let total): if let total, total > 0 { progress.setTotal(total) }
        case .step(let step, let loss, _, _, _, let memory):
            if result.firstLoss == nil { result.firstLoss = loss }
            if let loss { result.lastLoss = loss }
            if step > result.lastStep { progress.advance(by: step - result.lastStep) }
            result.lastStep = max(result.lastStep, step)
            if let memory { result.peakMemory = max(result.peakMemory ?? 0, memory) }
        case .checkpoint(_, let path): result.lastCheckpoint = path
        case .end(let totals): result.totals = totals
        case .error(let message): result.errorMessage = message
        case .eval, .other: break
        }
    }

    func stderr(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        result.stderrTail.append(line)
        if result.stderrTail.count > 50 { result.stderrTail.removeFirst(result.stderrTail.count - 50) }
    }

    func markInterrupted() {
        lock.lock()
        result.interrupted = true
        lock.unlock()
    }

    func snapshot() -> TrainLauncher.ProcessResult {
        lock.lock()
        defer { lock.unlock() }
        return result
    }
}

/// Reads a file handle to EOF, calling `body` with each line (without its newline).
enum LineReader {
    static func read(_ handle: FileHandle, _ body: (String) -> Void) {
        var buffer = Data()
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            while let newline = buffer.firstIndex(of: 0x0A) {
                body(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
                buffer.removeSubrange(buffer.startIndex...newline)
            }
        }
        if !buffer.isEmpty { body(String(decoding: buffer, as: UTF8.self)) }
    }
}

/// GPU energy counters through `nvidia-smi` (NVML's total energy since driver load, in millijoules).
enum GPUEnergy {
    /// The sum over GPUs in joules, or nil when `nvidia-smi` is absent or does not report it.
    static func totalJoules() -> Double? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["nvidia-smi", "--query-gpu=total_energy_consumption", "--format=csv,noheader,nounits"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let values = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            .compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        return values.isEmpty ? nil : values.reduce(0, +) / 1000
    }
}

/// Starts a `Process` from a fresh thread whose signal mask is empty. Foundation spawns the child with the
/// calling thread's mask, and Swift concurrency / dispatch worker threads block most signals: a trainer started
/// from one would have SIGINT blocked for life and never see Ctrl-C.
enum CleanSpawn {
    static func run(_ process: Process) throws {
        nonisolated(unsafe) var failure: (any Error)?
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            var empty = sigset_t()
            sigemptyset(&empty)
            pthread_sigmask(SIG_SETMASK, &empty, nil)
            do { try process.run() } catch { failure = error }
            // Block again before this thread can receive anything meant for the process's handlers.
            var all = sigset_t()
            sigfillset(&all)
            pthread_sigmask(SIG_SETMASK, &all, nil)
            done.signal()
        }
        thread.start()
        done.wait()
        if let failure { throw failure }
    }
}
