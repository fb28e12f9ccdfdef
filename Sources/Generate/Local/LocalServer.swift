import Foundation
import Logging

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

    private let exit: TiedChild

    private init(configuration: LocalServerConfiguration, port: Int, pid: Int32, modelName: String, acceptsImages: Bool, exit: TiedChild) {
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

        let exit = TiedChild()
        let pid = try exit.spawn(executable: configuration.binary.executable.path, arguments: arguments,
                                 environment: serverEnvironment(), outputFD: fd)
        logger.info("started llama.cpp server", metadata: ["local.pid": "\(pid)", "local.port": "\(port)", "local.model": "\(model)"])
        let fail = { (code: LocalServerError.Code, what: String) -> LocalServerError in
            // The log's last meaningful line (`failed to load model …`) says why, without opening the log.
            let said = lastLogLine(log).map { ": \"\($0)\"" } ?? ""
            return LocalServerError(code, "llama.cpp server for \(model) \(what)\(said) (see \(log.path))")
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

    /// The server's exit status once it has exited (128 + signal for a signalled server), nil while it runs.
    public var exitStatus: Int32? { exit.status }

    /// When the server has exited: one line saying so, with its status, its log's last meaningful line and the log.
    public var exitReport: String? {
        guard let status = exit.status else { return nil }
        let log = configuration.logFile
        let said = Self.lastLogLine(log).map { " (its log ends: \"\($0)\")" } ?? ""
        return "the llama.cpp server for \(configuration.model.path) (pid \(pid)) exited with status \(status)\(said); see \(log.path)"
    }

    /// The log's last line after dsbuild's own banner that says something (errors first: `failed to load model`),
    /// cut to 200 characters and without control characters; nil when the server wrote nothing.
    static func lastLogLine(_ log: URL) -> String? {
        guard let text = try? String(contentsOf: log, encoding: .utf8) else { return nil }
        let run = text.components(separatedBy: "\n== ").last ?? text
        let lines = run.split(separator: "\n").dropFirst().map { line in
            String(line.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }.map(Character.init))
                .trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        let errors = lines.filter { $0.lowercased().contains("error") || $0.lowercased().contains("failed") }
        return (errors.last ?? lines.last).map { String($0.prefix(200)) }
    }

    /// Stops the server's process group: SIGTERM, then SIGKILL after `grace` seconds. Idempotent.
    public func stop(grace: Double = 5) { Self.stop(pid: pid, exit: exit, grace: grace) }

    private static func stop(pid: Int32, exit: TiedChild, grace: Double = 5) {
        exit.stop(grace: grace)
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
