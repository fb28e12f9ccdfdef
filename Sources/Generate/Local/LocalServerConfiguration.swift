import Dataset
import Foundation

/// How dsbuild starts llama.cpp's server for `llm.local`: the files, the server's context and slots, the name it
/// serves the model under, and where its output goes.
public struct LocalServerConfiguration: Sendable, Equatable {
    public var binary: LocalServerBinary
    public var model: URL
    public var mmproj: URL?
    public var context: Int
    public var parallel: Int
    /// Its output (stdout and stderr), appended: `<workspace>/logs/llama-server.log`.
    public var logFile: URL
    public var startupSeconds: Double
    /// `document` prompting (a base model): the server renders conversations with `DocumentPrompt.serverTemplate`
    /// instead of a chat template (the file's own, or llama.cpp's ChatML fallback when it has none).
    public var prompting: LLMSettings.LocalPrompting

    public init(binary: LocalServerBinary, model: URL, mmproj: URL? = nil, context: Int = 4096, parallel: Int = 2,
                logFile: URL, startupSeconds: Double = 180, prompting: LLMSettings.LocalPrompting = .chat) {
        self.binary = binary
        self.model = model
        self.mmproj = mmproj
        self.context = context
        self.parallel = parallel
        self.logFile = logFile
        self.startupSeconds = startupSeconds
        self.prompting = prompting
    }

    /// The model name the server reports and every request sends: the GGUF's file name without `.gguf` and the
    /// first 8 hex digits of its `ModelFingerprint` (`gemma-3-270m-q4_k_m-1a2b3c4d`), given to the server as
    /// `--alias`. It depends on nothing else (not the port, not the folder), so the request bodies — and the cache
    /// keys hashed from them — are the same on every start, and another file of the same name is another model.
    public var alias: String { Self.alias(for: model) }

    /// The alias of `model` (see `alias`).
    public static func alias(for model: URL) -> String {
        let stem = model.deletingPathExtension().lastPathComponent
        return ModelFingerprint.of(model).map { "\(stem)-\($0.prefix(8))" } ?? stem
    }

    /// The server's arguments for `port`.
    public func arguments(port: Int) -> [String] {
        var arguments = ["--model", model.path, "--host", "127.0.0.1", "--port", "\(port)", "--ctx-size", "\(context)",
                         "--parallel", "\(parallel)", "--alias", alias, "--no-webui", "--offline"]
        if let mmproj { arguments += ["--mmproj", mmproj.path] }
        if prompting == .document { arguments += ["--jinja", "--chat-template", DocumentPrompt.serverTemplate] }
        return arguments
    }
}
