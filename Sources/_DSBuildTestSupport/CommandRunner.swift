import Foundation

/// Runs the built `dsbuild` executable as a user would, capturing its output and exit status.
public struct CommandRunner: Sendable {
    public struct Result: Sendable {
        public let status: Int32
        public let stdout: String
        public let stderr: String
        public let signalled: Bool

        /// Parses stdout as one JSON object.
        public func json() throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any] else {
                throw CocoaError(.coderReadCorrupt)
            }
            return object
        }
    }

    /// The built binary: the debug build beside the tests.
    public static let binary: URL = {
        let root = TestPaths.repositoryRoot
        let candidates = [".build/debug/dsbuild", ".build/x86_64-unknown-linux-gnu/debug/dsbuild",
                          ".build/aarch64-unknown-linux-gnu/debug/dsbuild"]
        for candidate in candidates {
            let url = root.appendingPathComponent(candidate)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return root.appendingPathComponent(candidates[0])
    }()

    public var environment: [String: String]

    public init(environment: [String: String] = [:]) {
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "DSBUILD_WORKSPACE")
        for (k, v) in environment { env[k] = v }
        self.environment = env
    }

    /// Runs `dsbuild ARGS` to completion.
    public func run(_ arguments: [String], currentDirectory: URL? = nil) throws -> Result {
        let started = Date()
        let process = try start(arguments, currentDirectory: currentDirectory)
        let result = process.wait()
        if Self.reportsTimings {
            let words = arguments.prefix(4).map { $0.count > 40 ? "…" + $0.suffix(30) : $0 }
            FileHandle.standardError.write(Data(String(format: "[dsbuild %.2f s] %@\n", Date().timeIntervalSince(started),
                                                        words.joined(separator: " ")).utf8))
        }
        return result
    }

    /// `DSBUILD_TEST_TIMINGS=1`: each `run` prints its wall time to stderr, to find what makes a test slow.
    static let reportsTimings = ProcessInfo.processInfo.environment["DSBUILD_TEST_TIMINGS"] != nil

    /// Starts `dsbuild ARGS` and returns a handle (to kill it mid-run, for resume tests).
    public func start(_ arguments: [String], currentDirectory: URL? = nil) throws -> RunningCommand {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.environment = environment
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("dsbuild-out-\(UUID().uuidString)")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("dsbuild-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return RunningCommand(process: process, stdoutFile: out, stderrFile: err)
    }
}

/// A `dsbuild` process started by a test.
public final class RunningCommand: @unchecked Sendable {
    public let process: Process
    let stdoutFile: URL
    let stderrFile: URL

    init(process: Process, stdoutFile: URL, stderrFile: URL) {
        self.process = process
        self.stdoutFile = stdoutFile
        self.stderrFile = stderrFile
    }

    /// Sends SIGKILL: the process gets no chance to clean up.
    public func kill() {
        Glibc.kill(process.processIdentifier, SIGKILL)
    }

    public func wait() -> CommandRunner.Result {
        process.waitUntilExit()
        let stdout = (try? String(contentsOf: stdoutFile, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: stdoutFile)
        try? FileManager.default.removeItem(at: stderrFile)
        return CommandRunner.Result(status: process.terminationStatus, stdout: stdout, stderr: stderr,
                                    signalled: process.terminationReason == .uncaughtSignal)
    }
}
