import ArgumentParser
import Dataset
import Foundation
import Generate
import Synchronization

/// How a model-calling command runs in batch mode (`--batch` or `llm.batch: true`): one queue its clients put
/// requests in, and the driver that submits, polls, merges and runs the command's passes again.
enum BatchMode {
    /// The queue for a command's clients when batch mode is on (the flag or the recipe), else nil (online).
    /// Refused under a local model: llama.cpp's server has no Batch API (its requests cost nothing anyway).
    static func queue(_ context: CommandContext, flag: Bool) throws -> BatchQueue? {
        guard flag || LLMSettings(recipe: context.recipe).batch else { return nil }
        if LocalModelSession.current != nil {
            throw ValidationErrorMessage(localRefusal)
        }
        return BatchQueue()
    }

    /// Why batch mode is refused under a local model.
    static let localRefusal = "--batch (llm.batch) sends requests to a provider's Batch API; the local model (llm.local) has none: run without it"

    /// The driver over the configured endpoint and the workspace's manifest.
    static func driver(_ context: CommandContext, queue: BatchQueue) -> BatchDriver {
        let llm = LLMSettings(recipe: context.recipe)
        let configuration = OpenAIClientConfiguration.from(llm, environment: ProcessInfo.processInfo.environment)
        var driver = BatchDriver(api: BatchAPI(configuration: configuration), store: BatchStore(manifest: context.workspace.manifest),
                                 queue: queue, settings: BatchSettings(llm), logger: context.logger, progress: context.progress)
        driver.onStep = testStop()
        return driver
    }

    /// Runs `pass` once online, or in batch mode through the driver until no request is left to batch. Ctrl-C
    /// interrupts either (submitted batches stay in the manifest; a rerun resumes polling them).
    static func run<T: Sendable>(_ context: CommandContext, queue: BatchQueue?,
                                 _ pass: @escaping @Sendable () async throws -> T) async throws -> (T, BatchReport?) {
        guard let queue else {
            let result = try await Interruption.cancellable(pass)
            // Online: requests a batch in flight holds were not sent (their items stay pending); say so once.
            let inFlight = (try? await BatchStore(manifest: context.workspace.manifest).inFlight().count) ?? 0
            if inFlight > 0 {
                Output.error("\(inFlight) batch\(inFlight == 1 ? " in flight holds" : "es in flight hold") requests of this workspace: those were not sent online and their items stay pending — run with --batch to merge them, or `dsbuild batch cancel`")
            }
            return (result, nil)
        }
        let driver = driver(context, queue: queue)
        do {
            let (result, report) = try await Interruption.cancellable { try await driver.run(pass) }
            return (result, report)
        } catch let exit as ExitCode where exit == Interruption.exitCode {
            let inFlight = (try? await driver.store.inFlight().count) ?? 0
            if inFlight > 0 {
                Output.error("interrupted: \(inFlight) batch\(inFlight == 1 ? "" : "es") stay submitted and recorded; run the command again to resume polling, or `dsbuild batch cancel`")
            }
            throw exit
        }
    }

    /// Prints the batch line (text mode) and says what is left; true when requests were still pending at the end.
    static func finish(_ report: BatchReport?, command: String, options: GlobalOptions) -> Bool {
        guard let report else { return false }
        if !options.json && !options.quiet { print(report.line) }
        for problem in report.problems { Output.error("\(command) --batch: \(problem)") }
        if report.left > 0 {
            Output.error("\(command): \(report.left) requests still unanswered after llm.batch_max_rounds rounds; their items stay pending — run \(command) --batch again")
        }
        return report.left > 0
    }

    /// `DSBUILD_TEST_BATCH_STOP=<step>:<n>`: the process stops itself (SIGKILL) at the n-th `step` of a submission
    /// (`staged`, `uploaded`, `created`, `polled`) — how the tests kill it at an exact point. Unset: nothing.
    private static func testStop() -> (@Sendable (String) -> Void)? {
        guard let spec = ProcessInfo.processInfo.environment["DSBUILD_TEST_BATCH_STOP"] else { return nil }
        let parts = spec.split(separator: ":")
        guard parts.count == 2, let limit = Int(parts[1]) else { return nil }
        let step = String(parts[0])
        let seen = Counter()
        return { name in
            if name == step && seen.next() >= limit { kill(getpid(), SIGKILL) }
        }
    }

    private final class Counter: Sendable {
        private let value = Mutex(0)
        func next() -> Int { value.withLock { $0 += 1; return $0 } }
    }
}
