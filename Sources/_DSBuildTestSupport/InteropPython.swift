import Foundation

/// The interop venv's Python (`.venv-interop`: webdataset, datasets, Pillow, pyarrow at pinned versions), created on
/// first use by `scripts/pyenv-interop.sh`: what tests use to make inputs the way the world makes them (a LAION parquet)
/// and to read dsbuild's output with the real readers.
public enum InteropPython {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `python -c code args…` (or `python args…` when `code` is nil) to completion.
    public static func run(_ code: String?, _ arguments: [String] = []) throws -> Result {
        let root = TestPaths.repositoryRoot
        let setup = try execute(["bash", root.appendingPathComponent("scripts/pyenv-interop.sh").path], cwd: root)
        guard setup.status == 0 else { return setup }
        let python = root.appendingPathComponent(".venv-interop/bin/python").path
        return try execute([python] + (code.map { ["-c", $0] } ?? []) + arguments, cwd: nil)
    }

    private static func execute(_ argv: [String], cwd: URL?) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        if let cwd { process.currentDirectoryURL = cwd }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Both pipes read at once, so a full stderr cannot block the child.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData, as: UTF8.self))
    }
}
