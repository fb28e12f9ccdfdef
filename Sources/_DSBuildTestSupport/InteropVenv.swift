import Foundation

/// The interop venv (`.venv-interop`: webdataset, datasets, Pillow, pyarrow, mlcroissant at pinned versions), created
/// on first use by `scripts/pyenv-interop.sh`: the real readers the tests hand dsbuild's output to.
public enum InteropVenv {
    /// Its Python, or why it could not be made (the script's stderr tail).
    public static let python: Result<URL, SetupFailure> = {
        let root = TestPaths.repositoryRoot
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["bash", root.appendingPathComponent("scripts/pyenv-interop.sh").path]
        process.currentDirectoryURL = root
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            return .failure(SetupFailure(message: "cannot run scripts/pyenv-interop.sh: \(error)"))
        }
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            return .failure(SetupFailure(message: "scripts/pyenv-interop.sh failed: \(String(decoding: stderr, as: UTF8.self).suffix(2000))"))
        }
        return .success(root.appendingPathComponent(".venv-interop/bin/python"))
    }()

    public struct SetupFailure: Error, Sendable { public let message: String }

    /// `DSBUILD_ALLOW_NO_INTEROP=1`: a test may skip its reader checks when the venv cannot be made.
    public static var mayBeMissing: Bool { ProcessInfo.processInfo.environment["DSBUILD_ALLOW_NO_INTEROP"] == "1" }
}
