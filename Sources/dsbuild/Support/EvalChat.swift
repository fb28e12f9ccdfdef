import Dataset
import Foundation
import Generate

/// Where `dsbuild eval` gets its `ChatService`: the OpenAI-compatible client at the given endpoint, caching in
/// the workspace's `llm_cache` when there is a workspace (so re-running an evaluation costs nothing), kept to
/// `llm.budget`.
enum EvalChat {
    static func make(endpoint: String, apiKey: String?, workspace: Workspace?, recipe: Recipe = .empty) throws -> any ChatService {
        guard let base = URL(string: endpoint), base.scheme == "http" || base.scheme == "https" else {
            throw ValidationErrorMessage("--endpoint \(endpoint) is not an http(s) URL")
        }
        let llm = LLMSettings(recipe: recipe)
        var configuration = OpenAIClientConfiguration.from(llm, environment: ProcessInfo.processInfo.environment)
        configuration.baseURL = base
        configuration.apiKey = apiKey
        // `llm.budget` holds for the evaluation's requests as for the stages' (with a workspace to count it in).
        if let workspace, llm.budget.isSet {
            configuration.budget = try LLMBudget(settings: llm, manifest: workspace.manifest, workspace: workspace.root.path)
        }
        // The local server this command started: no key, its slots, a CPU's time limit.
        if let server = LocalModelSession.current, server.baseURL == base { Wiring.local(server, &configuration) }
        return OpenAIClient(configuration: configuration, cache: workspace.map { LLMCache(manifest: $0.manifest) })
    }
}

/// A one-line error for a bad option value found after parsing.
struct ValidationErrorMessage: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
