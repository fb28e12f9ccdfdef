import Dataset
import Foundation
import Testing
import _DSBuildTestSupport
@testable import Train

/// A workspace filled by `ManifestFixture` in a temporary directory.
struct FixtureWorkspace {
    let dir: TemporaryDirectory
    let workspace: Workspace
    let summary: ManifestFixture.Summary

    init(images: Int = 6, testEvery: Int = 3) throws {
        dir = TemporaryDirectory("dsbuild-train")
        workspace = try Workspace.create(at: dir.path("ws"))
        summary = try ManifestFixture.populate(workspace, images: images, testEvery: testEvery)
    }

    func writeShards(_ name: String = "shards", configure: (inout ShardSettings) -> Void = { _ in }) async throws -> (URL, ShardSummary) {
        var settings = ShardSettings(out: dir.path(name))
        settings.shardSize = 4
        configure(&settings)
        let summary = try await ShardWriter(workspace: workspace, settings: settings).write()
        return (settings.out, summary)
    }
}

/// Runs a process to completion; returns status, stdout, stderr.
@discardableResult
func runProcess(_ argv: [String], cwd: URL? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = argv
    if let cwd { process.currentDirectoryURL = cwd }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes concurrently so a full stderr pipe cannot block the child.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async { errData = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

/// The interop venv's Python (`InteropVenv`). If it cannot be created the calling test fails — unless
/// `DSBUILD_ALLOW_NO_INTEROP=1`, when it returns nil and the test skips its client checks.
enum Interop {
    static var python: Result<URL, InteropVenv.SetupFailure> { InteropVenv.python }

    static func pythonOrFail() -> URL? {
        switch python {
        case .success(let url): return url
        case .failure(let failure):
            let message = failure.message
            if InteropVenv.mayBeMissing { return nil }
            Issue.record("the interop venv is required (set DSBUILD_ALLOW_NO_INTEROP=1 to skip): \(message)")
            return nil
        }
    }
}
