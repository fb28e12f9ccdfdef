import Foundation
import Dataset

/// Whether a command that asks a model has somewhere to ask: `llm.local`, `llm.base_url`, or the endpoint or key
/// variable (`llm.base_url_env`, `llm.api_key_env`, by default `OPENAI_BASE_URL`, `OPENAI_API_KEY`). Without
/// any of them the client would send unauthenticated requests to api.openai.com and fail each one after retries;
/// the stage stops before any request instead, with `NoEndpointError`'s one line.
public enum EndpointRequirement {
    /// nil when an endpoint is configured; else the error to stop with.
    public static func check(_ llm: LLMSettings, environment: [String: String]) -> NoEndpointError? {
        if llm.usesLocalModel { return nil }
        if let base = llm.baseURL, !base.isEmpty { return nil }
        for variable in [llm.baseURLVariable, llm.apiKeyVariable] {
            if let value = environment[variable], !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { return nil }
        }
        return NoEndpointError(baseURLVariable: llm.baseURLVariable, apiKeyVariable: llm.apiKeyVariable)
    }
}

/// No model endpoint is configured: what is missing and the two ways to fix it.
public struct NoEndpointError: Error, Sendable, CustomStringConvertible {
    public let baseURLVariable: String
    public let apiKeyVariable: String

    public init(baseURLVariable: String, apiKeyVariable: String) {
        self.baseURLVariable = baseURLVariable
        self.apiKeyVariable = apiKeyVariable
    }

    public var description: String {
        "no model endpoint: neither \(baseURLVariable)/\(apiKeyVariable) nor llm.base_url nor llm.local is set, so no request was sent"
            + " — run `dsbuild models install` and set llm.local.model: \(KnownModel.all[0].name) (or --local-model),"
            + " or export \(apiKeyVariable) (and \(baseURLVariable) for another endpoint)"
    }
}
