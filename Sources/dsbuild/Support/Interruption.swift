import ArgumentParser
import CSignals
import Foundation
import Synchronization

/// Ctrl-C and SIGTERM for every command: `cancellable` runs the work in a task the first signal cancels (stages
/// stop starting work, finish or abandon what is in flight — abandoned items stay pending — and record the run
/// `interrupted`); a second signal exits at once. An interrupted command exits with status 130 (128 + SIGINT), as
/// a shell reports a Ctrl-C.
///
/// One handler serves the whole process, installed by `install()` before any command runs (`DSBuild.main`): a
/// sigaction handler that writes to a pipe (CSignals) and a thread that reads it. It is in place synchronously, so
/// a signal that arrives while a command is still setting up is counted, never dropped (an ignored-then-dispatch
/// source handler left a window in which it was), and `dsbuild run`, which runs the stage commands in-process
/// (each with its own `cancellable`), sees one signal once and cancels every level. Child processes (the trainer)
/// are stopped by their launcher when its task is cancelled.
enum Interruption {
    /// The exit status of an interrupted command.
    static let exitCode = ExitCode(130)

    private struct State {
        var signals = 0
        var tasks: [UInt64: @Sendable () -> Void] = [:]
        var nextID: UInt64 = 0
        var installed = false
    }

    private static let state = Mutex(State())

    /// Whether a SIGINT or SIGTERM arrived in this process.
    static var wasInterrupted: Bool { state.withLock { $0.signals > 0 } }

    /// Installs the process-wide handler; call once, first thing. Without it (the pipe or handler could not be
    /// made) signals keep their default action: the process dies, which loses nothing a rerun does not redo.
    static func install() {
        let first = state.withLock { state -> Bool in
            defer { state.installed = true }
            return !state.installed
        }
        guard first, dsb_signals_install() == 0 else { return }
        let reader = Thread {
            while dsb_signals_wait() > 0 { received() }
        }
        reader.name = "dsbuild-signals"
        reader.start()
    }

    /// Runs `body` so that SIGINT/SIGTERM cancel it. A `CancellationError` out of `body` becomes exit 130.
    static func cancellable<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await body() }
        let id = register { task.cancel() }
        defer { state.withLock { _ = $0.tasks.removeValue(forKey: id) } }
        do {
            return try await task.value
        } catch is CancellationError {
            throw exitCode
        } catch where wasInterrupted && !(error is ExitCode) {
            // Work cut short by the signal may surface as its own error (a cancelled transfer): still an interruption.
            Output.error("interrupted: \(error)")
            throw exitCode
        }
    }

    /// Throws exit 130 when a signal arrived; call after printing what the interrupted run did.
    static func exitIfInterrupted(_ command: String) throws {
        guard wasInterrupted else { return }
        Output.error("interrupted: run `dsbuild \(command)` again to finish (done work is kept)")
        throw exitCode
    }

    private static func register(_ cancel: @escaping @Sendable () -> Void) -> UInt64 {
        state.withLock { state in
            let id = state.nextID
            state.nextID += 1
            state.tasks[id] = cancel
            // A signal that came before this task started cancels it too.
            if state.signals > 0 { cancel() }
            return id
        }
    }

    private static func received() {
        let (count, cancels) = state.withLock { state -> (Int, [@Sendable () -> Void]) in
            state.signals += 1
            return (state.signals, Array(state.tasks.values))
        }
        if count > 1 {
            FileHandle.standardError.write(Data("\ninterrupted again: stopping now\n".utf8))
            exit(130)
        }
        FileHandle.standardError.write(Data("\ninterrupted: finishing the work under way (again to stop now)…\n".utf8))
        cancels.forEach { $0() }
    }
}
