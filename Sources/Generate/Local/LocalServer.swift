import CSpawn
import Foundation
import Logging
import Synchronization

/// A llama.cpp server that dsbuild started on 127.0.0.1 and stops: `start` picks a free port, starts the binary
/// (its own process group, its output appended to the log file) and waits until `/health` answers 200; `stop`
/// sends SIGTERM to the group, then SIGKILL after a grace period. The child is started by a thread that then waits
/// for it, with `PR_SET_PDEATHSIG` (CSpawn): should dsbuild crash or be killed with -9, the kernel kills the
/// server too — nothing is left listening.
public final class LocalServer: Sendable {
    public let configuration: LocalServerConfiguration
    public let port: Int
    /// The server's pid (also its process group).
    public let pid: Int32
    /// The API root, `http://127.0.0.1:<port>/v1`.
    public var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/v1")! }
    /// The model name `/v1/models` reports (the alias).
    public let modelName: String
    /// Whether the server takes images (`/v1/models` lists `image` among its input modalities: an mmproj loaded).
    public let acceptsImages: Bool

    private let exit: ExitWatch

    private init(configuration: LocalServerConfiguration, port: Int, pid: Int32, modelName: String, acceptsImages: Bool, exit: ExitWatch) {
        self.configuration = configuration
        self.port = port
        self.pid = pid
        self.modelName = modelName
        self.acceptsImages = acceptsImages
        self.exit = exit
    }

    /// Starts the server and returns once it answers `/health`; on any failure the process is stopped and the
    /// error is one line naming the model and the log.
    public static func start(_ configuration: LocalServerConfiguration, logger: Logger) async throws -> LocalServer {
        let model = configuration.model.path
        for file in [configuration.model] + (configuration.mmproj.map { [$0] } ?? []) where !FileManager.default.fileExists(atPath: file.path) {
            throw LocalServerError(.modelNotFound, "local model file \(file.path) does not exist")
        }
        let log = configuration.logFile
        try? FileManager.default.createDirectory(at: log.deletingLastPathComponent(), withIntermediateDirectories: true)
        let fd = open(log.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LocalServerError(.startFailed, "cannot open the server log \(log.path): errno \(errno)") }
        defer { close(fd) }
        let port = try LoopbackHTTP.freePort()
        let arguments = configuration.arguments(port: port)
        let banner = "\n== \(ISO8601DateFormatter().string(from: Date())) \(configuration.binary.executable.path) \(arguments.joined(separator: " "))\n"
        _ = banner.withCString { write(fd, $0, strlen($0)) }

        let exit = ExitWatch()
        let pid = try exit.spawn(executable: configuration.binary.executable.path, arguments: arguments,
                                 environment: serverEnvironment(), logFD: fd)
        logger.info("started llama.cpp server", metadata: ["local.pid": "\(pid)", "local.port": "\(port)", "local.model": "\(model)"])
        let fail = { (code: LocalServerError.Code, what: String) -> LocalServerError in
            LocalServerError(code, "llama.cpp server for \(model) \(what) (see \(log.path))")
        }
        let deadline = Date().addingTimeInterval(configuration.startupSeconds)
        while true {
            if let status = exit.status {
                throw fail(.startFailed, "exited with status \(status) before it was ready")
            }
            if Task.isCancelled {
                stop(pid: pid, exit: exit)
                throw CancellationError()
            }
            if LoopbackHTTP.get(port: port, path: "/health", timeoutSeconds: 2)?.status == 200 { break }
            if Date() > deadline {
                stop(pid: pid, exit: exit)
                throw fail(.notReady, "did not answer /health within \(Int(configuration.startupSeconds)) s")
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        let (name, images) = models(port: port) ?? (configuration.alias, configuration.mmproj != nil)
        return LocalServer(configuration: configuration, port: port, pid: pid, modelName: name, acceptsImages: images, exit: exit)
    }

    /// Whether the server process is still running.
    public var isRunning: Bool { exit.status == nil }

    /// Stops the server's process group: SIGTERM, then SIGKILL after `grace` seconds. Idempotent.
    public func stop(grace: Double = 5) { Self.stop(pid: pid, exit: exit, grace: grace) }

    private static func stop(pid: Int32, exit: ExitWatch, grace: Double = 5) {
        guard exit.status == nil else { return }
        kill(-pid, SIGTERM)
        if exit.wait(seconds: grace) { return }
        kill(-pid, SIGKILL)
        _ = exit.wait(seconds: 5)
    }

    /// The first model `/v1/models` lists and whether it takes images.
    static func models(port: Int) -> (String, Bool)? {
        guard let reply = LoopbackHTTP.get(port: port, path: "/v1/models"), reply.status == 200,
              let object = try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any],
              let first = (object["data"] as? [[String: Any]])?.first, let id = first["id"] as? String else { return nil }
        let modalities = ((first["architecture"] as? [String: Any])?["input_modalities"] as? [String]) ?? []
        return (id, modalities.contains("image"))
    }

    /// The environment the server runs with: dsbuild's, less the secrets (the server needs no key).
    static func serverEnvironment() -> [String] {
        let secret = ["KEY", "TOKEN", "SECRET", "PASSWORD"]
        return ProcessInfo.processInfo.environment
            .filter { name, _ in !secret.contains { name.uppercased().contains($0) } }
            .map { "\($0.key)=\($0.value)" }
    }
}

/// The thread that starts the child and waits for it: the child's parent-death signal is tied to this thread,
/// which lives exactly as long as the child does.
private final class ExitWatch: Sendable {
    private let state = Mutex<(pid: Int32, status: Int32?)>((0, nil))
    private let started = DispatchSemaphore(value: 0)
    private let exited = DispatchSemaphore(value: 0)

    /// The exit status (128 + signal for a signalled child), nil while it runs.
    var status: Int32? { state.withLock { $0.status } }

    func spawn(executable: String, arguments: [String], environment: [String], logFD: Int32) throws -> Int32 {
        let errorNumber = Mutex<Int32>(0)
        let thread = Thread { [self] in
            let argv = ([executable] + arguments).map { strdup($0) } + [nil]
            let envp = environment.map { strdup($0) } + [nil]
            let pid = dsb_spawn_tied(executable, argv, envp, logFD)
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
        thread.name = "dsbuild-llama-server"
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
}
