import Dataset
import Foundation

/// Where `dsbuild eval` gets its `ChatService`. The OpenAI-compatible client (libcurl, cache in `llm_cache`,
/// retries) lives in Generate; until it lands on this branch, eval through the CLI reports that clearly.
/// Wire it here: `return OpenAIChatService(baseURL: endpoint, apiKey: apiKey, cache: workspace?.manifest)`.
enum EvalChat {
    static func make(endpoint: String, apiKey: String?, workspace: Workspace?) throws -> any ChatService {
        throw NotYetAvailable(command: "eval --endpoint (the OpenAI-compatible client from Generate is not in this build)")
    }
}
