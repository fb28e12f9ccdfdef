import ArgumentParser
import Dataset
import Foundation
import Generate
import Synchronization

/// The local model a command is served by (`llm.local` or `--local-model`): at most one llama.cpp server per
/// dsbuild process. The outermost command that needs it starts it and stops it when it ends (`dsbuild run`
/// starts it once for all its stages; the stage commands it runs in-process find it running). Ctrl-C ends the
/// command through its normal path, so the same `defer` stops it; a crash or kill -9 of dsbuild takes it with it
/// (`LocalServer`'s parent-death signal).
enum LocalModelSession {
    private static let active = Mutex<LocalServer?>(nil)

    /// The running server, when a command in this process started one.
    static var current: LocalServer? { active.withLock { $0 } }

    /// What the recipe and `--local-model` ask for: nil for a remote endpoint.
    struct Plan {
        var llm: LLMSettings
        var model: URL
        var mmproj: URL?
        /// The model name every request sends (the server's `--alias`).
        var alias: String
        /// Why `llm.local.prompting: auto` could not read the model's header (it is then asked as a chat model).
        var headerProblem: String? = nil
        /// Whether image-grounded work can be asked: a vision projector, and a chat model (a base model asked with
        /// documents gets no image).
        var hasVision: Bool { mmproj != nil && llm.localPrompting != .document }
    }

    /// The plan of this command: the running server's, else the recipe's `llm.local` with `--local-model` over it.
    static func plan(_ context: CommandContext, option: String?) throws -> Plan? {
        var llm = LLMSettings(recipe: context.recipe)
        if let server = current {
            llm.localModel = server.configuration.model.path
            llm.localPrompting = server.configuration.prompting
            return Plan(llm: llm, model: server.configuration.model, mmproj: server.configuration.mmproj, alias: server.modelName)
        }
        let fromOption = option != nil
        if let option, option.trimmingCharacters(in: .whitespaces).isEmpty {
            Output.error("--local-model: the path is empty: give a .gguf file or an installed model (\(KnownModel.all.map(\.name).joined(separator: ", ")))")
            throw ExitCode(2)
        }
        if let option { llm.localModel = option }
        guard llm.usesLocalModel, let value = llm.localModel else { return nil }
        let cache = ModelsCache.from(environment: ProcessInfo.processInfo.environment)
        let base = fromOption ? URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
                              : (context.recipe.directory ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        do {
            let model = try cache.resolveModel(value, relativeTo: base)
            var mmproj = llm.localMMProj.map { context.recipe.resolve($0) }
            if mmproj == nil, let known = KnownModel.named(value), known.hasVision {
                mmproj = cache.installed().first { $0.name == known.name }?.mmproj.map { URL(fileURLWithPath: $0) }
            }
            llm.localModel = model.path
            let prompting = DocumentPrompt.resolution(llm.localPrompting, model: model)
            llm.localPrompting = prompting.prompting
            return Plan(llm: llm, model: model, mmproj: mmproj, alias: LocalServerConfiguration.alias(for: model),
                        headerProblem: prompting.unreadable)
        } catch {
            Output.error(error.description)
            throw ExitCode(2)
        }
    }

    /// Runs `body` with the endpoint it needs. With a `plan` and `needsModel`, the local server is started first
    /// (unless running) and stopped after; without a plan and with `needsModel`, the command stops at once (exit 2)
    /// when no endpoint is configured — no request leaves for a default endpoint without a key.
    /// With `batch` (or `llm.batch`) under a local model, the command is refused before any server starts.
    static func serving<T>(_ context: CommandContext, plan: Plan?, needsModel: Bool, command: String, batch: Bool = false,
                           _ body: () async throws -> T) async throws -> T {
        guard needsModel, current == nil else { return try await body() }
        if plan != nil, batch || LLMSettings(recipe: context.recipe).batch {
            throw ValidationErrorMessage(BatchMode.localRefusal)
        }
        guard let plan else {
            if let missing = EndpointRequirement.check(LLMSettings(recipe: context.recipe), environment: ProcessInfo.processInfo.environment) {
                Output.error("\(command): \(missing.description)")
                throw ExitCode(2)
            }
            return try await body()
        }
        let server = try await start(plan, context: context, command: command)
        defer {
            server.stop()
            active.withLock { $0 = nil }
        }
        return try await body()
    }

    /// For `dsbuild run`: starts the plan's server unless one runs, to serve every later stage; `stopStarted()`
    /// stops it. A failed start is one line and `ExitCode(2)`; Ctrl-C during it, exit 130.
    static func startIfNeeded(_ context: CommandContext, plan: Plan, command: String) async throws {
        guard current == nil else { return }
        _ = try await start(plan, context: context, command: command)
    }

    /// Stops the server `startIfNeeded` started (nothing when none runs).
    static func stopStarted() {
        let server = active.withLock { server -> LocalServer? in
            defer { server = nil }
            return server
        }
        server?.stop()
    }

    private static func start(_ plan: Plan, context: CommandContext, command: String) async throws -> LocalServer {
        let environment = ProcessInfo.processInfo.environment
        let log = context.workspace.root.appendingPathComponent("logs/llama-server.log")
        do {
            let binary = try LocalServerBinary.resolve(venv: plan.llm.localVenv.map { context.recipe.resolve($0).path },
                                                       environment: environment,
                                                       workingDirectory: URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
                                                       modelsCache: ModelsCache.from(environment: environment))
            let configuration = LocalServerConfiguration(binary: binary, model: plan.model, mmproj: plan.mmproj,
                                                         context: plan.llm.localContext, parallel: plan.llm.localParallel,
                                                         logFile: log, startupSeconds: plan.llm.localStartupSeconds,
                                                         prompting: plan.llm.localPrompting)
            if !context.options.quiet {
                let ignored = [plan.llm.baseURLVariable, plan.llm.apiKeyVariable].filter { !(environment[$0] ?? "").isEmpty }
                if !ignored.isEmpty {
                    Output.note("\(command): llm.local is set, so \(ignored.joined(separator: " and ")) \(ignored.count == 1 ? "is" : "are") not used")
                }
                Output.note("\(command): serving \(plan.model.lastPathComponent) with llama.cpp (\(binary.origin)), \(plan.llm.localParallel) slots; log \(log.path)")
                if let problem = plan.headerProblem {
                    Output.note("\(command): \(problem); asked as a chat model (set llm.local.prompting to choose)")
                }
                if plan.llm.localPrompting == .document {
                    Output.note("\(command): \(plan.model.lastPathComponent) is asked with documents to continue (llm.local.prompting: document; a model without a chat template is a pretrained base model, which follows no instructions)")
                }
            }
            // Ctrl-C while the model loads stops the wait (and the server) at once: the start runs in a task the
            // signal cancels, as the stage's work does.
            let logger = context.logger
            let server = try await Interruption.cancellable { try await LocalServer.start(configuration, logger: logger) }
            active.withLock { $0 = server }
            return server
        } catch let error as LocalServerError {
            Output.error("\(command): \(error.description)")
            throw ExitCode(2)
        } catch is CancellationError {
            throw Interruption.exitCode
        }
    }

    /// Under a local model that cannot be asked about images (`Plan.hasVision` false): prints the one line that
    /// says a part needing images is skipped, and why.
    static func skipped(_ command: String, _ what: String, _ context: CommandContext, plan: Plan) {
        guard !context.options.quiet else { return }
        let why = plan.mmproj != nil
            ? "the local model is a base model asked with documents, which carry no image (llm.local.prompting: document)"
            : "the local model has no vision projector (set llm.local.mmproj to a vision model's mmproj GGUF)"
        Output.note("\(command): \(what) skipped: \(why)")
    }
}
