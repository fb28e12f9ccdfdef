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

    /// Runs `python -c code args…` (or `python args…` when `code` is nil) to completion, with the venv
    /// `InteropVenv` made (a venv that cannot be made is status 1 and the script's stderr).
    public static func run(_ code: String?, _ arguments: [String] = []) throws -> Result {
        switch InteropVenv.python {
        case .failure(let failure):
            return Result(status: 1, stdout: "", stderr: failure.message)
        case .success(let python):
            return try execute([python.path] + (code.map { ["-c", $0] } ?? []) + arguments, cwd: nil)
        }
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
