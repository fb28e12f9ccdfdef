import CSpawn
import Foundation
import Synchronization

/// A child process tied to dsbuild: started (CSpawn's `dsb_spawn_tied`) by a thread that then waits for it, so the
/// child leads its own process group and gets `PR_SET_PDEATHSIG` — should dsbuild crash or be killed with -9, the
/// kernel kills the child too. `stop` ends its whole group. Used for the llama.cpp server and for the steps of
/// `dsbuild models install` (venv, pip, the build, the GGUF's assembly).
final class TiedChild: Sendable {
    private let state = Mutex<(pid: Int32, status: Int32?)>((0, nil))
    private let started = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)

    /// The exit status (128 + signal for a signalled child), nil while it runs.
    var status: Int32? { state.withLock { $0.status } }

    /// The child's pid (also its process group), 0 before `spawn`.
    var pid: Int32 { state.withLock { $0.pid } }

    /// Starts `executable` (a path; argv[0] is the path) with `arguments` and `environment` (`NAME=value`), its
    /// stdout and stderr on `outputFD`, stdin /dev/null. Throws the errno when fork failed.
    func spawn(executable: String, arguments: [String], environment: [String], outputFD: Int32) throws(LocalServerError) -> Int32 {
        let errorNumber = Mutex<Int32>(0)
        let thread = Thread { [self] in
            let argv = ([executable] + arguments).map { strdup($0) } + [nil]
            let envp = environment.map { strdup($0) } + [nil]
            let pid = dsb_spawn_tied(executable, argv, envp, outputFD)
            argv.forEach { free($0) }
            envp.forEach { free($0) }
            if pid < 0 { errorNumber.withLock { $0 = errno } }
            state.withLock { $0.pid = pid }
            started.signal()
            guard pid > 0 else { return }
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
            let code = (raw & 0x7f) == 0 ? (raw >> 8) & 0xff : 128 + (raw & 0x7f)
            state.withLock { $0.status = code }
            exited.signal()
        }
        thread.name = "dsbuild-child"
        thread.start()
        started.wait()
        let pid = state.withLock { $0.pid }
        guard pid > 0 else {
            throw LocalServerError(.startFailed, "could not start \(executable): fork failed (errno \(errorNumber.withLock { $0 }))")
        }
        return pid
    }

    /// Waits up to `seconds` for the child to exit; true when it has.
    func wait(seconds: Double) -> Bool {
        if status != nil { return true }
        guard exited.wait(timeout: .now() + seconds) == .success else { return false }
        exited.signal()  // later waiters see it too
        return true
    }

    /// Waits for the child to exit, polling for cancellation: a cancelled task stops the child's group (`stop`)
    /// and throws `CancellationError`. Returns the exit status.
    func waitCancellably() async throws -> Int32 {
        while !wait(seconds: 0) {
            if Task.isCancelled {
                stop()
                throw CancellationError()
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return status ?? -1
    }

    /// Stops the child's process group: SIGTERM, then SIGKILL after `grace` seconds. Idempotent.
    func stop(grace: Double = 5) {
        let pid = self.pid
        guard pid > 0, status == nil else { return }
        kill(-pid, SIGTERM)
        if !wait(seconds: grace) {
            kill(-pid, SIGKILL)
            _ = wait(seconds: 5)
        }
        // What the child started in its group and left behind goes with it.
        kill(-pid, SIGKILL)
    }
}
