import Foundation

/// A chat-completions service: what the filter's VLM judge, describe, mcq and eval ask a model through.
///
/// Declared here, in the shared core, so that Filter, Generate and Train depend on the protocol only; the
/// OpenAI-compatible implementation (libcurl, cache, retries, rate limits) lives in Generate and the CLI wires
/// it in. Implementations cache every request in the manifest's `llm_cache` by a hash of the full request
/// body, so a rerun never pays twice.
public protocol ChatService: Sendable {
    /// Sends one request (or answers it from the cache) and returns the model's reply. Output that fails the
    /// request's schema or validator is retried a bounded number of times with the error fed back; after that
    /// the error is thrown as `ChatError` with code `invalidOutput`. Errors that make further requests useless
    /// (exhausted quota, authentication) are thrown with `isFatal == true`.
    func complete(_ request: ChatRequest) async throws(ChatError) -> ChatResult
}

/// One message of a chat request.
public struct ChatMessage: Sendable, Equatable, Hashable {
    public enum Role: String, Sendable, Hashable { case system, user, assistant }

    /// A piece of content: text, or an image sent inline as a data URL.
    public enum Part: Sendable, Equatable, Hashable {
        case text(String)
        /// Image bytes with their MIME type; the client re-encodes/downscales them to its configured max side.
        case image(Data, mimeType: String)
    }

    public var role: Role
    public var parts: [Part]

    public init(role: Role, parts: [Part]) {
        self.role = role
        self.parts = parts
    }

    public static func system(_ text: String) -> ChatMessage { ChatMessage(role: .system, parts: [.text(text)]) }
    public static func user(_ text: String) -> ChatMessage { ChatMessage(role: .user, parts: [.text(text)]) }
    public static func assistant(_ text: String) -> ChatMessage { ChatMessage(role: .assistant, parts: [.text(text)]) }

    public var hasImage: Bool {
        parts.contains { if case .image = $0 { return true } else { return false } }
    }
}

/// What the caller wants back.
public enum ChatResponseFormat: Sendable, Equatable, Hashable {
    case text
    /// A JSON object matching this JSON Schema (as JSON text). `name` matches `[A-Za-z0-9_-]{1,64}`.
    case jsonSchema(name: String, schema: String)
}

/// A chat-completions request, independent of any endpoint's wire quirks.
public struct ChatRequest: Sendable {
    public var model: String
    public var messages: [ChatMessage]
    public var temperature: Double?
    public var maxTokens: Int?
    public var seed: Int?
    public var responseFormat: ChatResponseFormat
    /// What the request is for (`describe`, `mcq`, `eval`, `watermark_judge`…), stored with the cache entry.
    public var purpose: String
    /// Extra checks on the reply text beyond the schema; return an error message to have it retried.
    public var validator: (@Sendable (String) -> String?)?
    /// Skip the cache for this request (a `--refresh` run); the new answer replaces the cached one.
    public var refresh: Bool
    /// Replay from the cache only answers that pass the schema and the validator (and are no refusal); a cached
    /// answer that does not is asked again, once, and the new answer replaces it. For requests whose bad answer is a
    /// failure to retry on the next run rather than a decision to keep (the judges): a rerun still makes no request
    /// for an answer that was good.
    public var replaysOnlyValidAnswers: Bool
    /// Strings that end the reply where the model writes them (`stop`; not part of the reply).
    public var stop: [String]
    /// The start of the reply, written for the model (an assistant message it continues, as llama.cpp's server
    /// does with a last assistant turn): the reply is the lead and its continuation. For a base model, which
    /// follows no instruction, the lead (an entry's subject) is what keeps it on its subject.
    public var lead: String?
    /// Whether a reply the schema or the validator rejects is asked again with the reason fed back; a base model
    /// reads no feedback, so its requests are asked once.
    public var reasksOnRejection: Bool

    public init(model: String, messages: [ChatMessage], temperature: Double? = nil, maxTokens: Int? = nil,
                seed: Int? = nil, responseFormat: ChatResponseFormat = .text, purpose: String,
                validator: (@Sendable (String) -> String?)? = nil, refresh: Bool = false, replaysOnlyValidAnswers: Bool = false,
                stop: [String] = [], lead: String? = nil, reasksOnRejection: Bool = true) {
        self.model = model
        self.messages = messages
        self.temperature = temperature
        self.maxTokens = maxTokens
        self.seed = seed
        self.responseFormat = responseFormat
        self.purpose = purpose
        self.validator = validator
        self.refresh = refresh
        self.replaysOnlyValidAnswers = replaysOnlyValidAnswers
        self.stop = stop
        self.lead = lead
        self.reasksOnRejection = reasksOnRejection
    }

    /// The reply as the model meant it: with its `lead` (llama.cpp's server returns a continued assistant turn
    /// whole, lead included; another server may return only the continuation, with or without its space, or the
    /// lead again in another case), and cut at the first `stop` string after the lead (a server that ignores `stop`
    /// runs on into what the request stops at).
    public func shaped(_ reply: String) -> String {
        var text = reply
        if let lead, !lead.isEmpty, text.range(of: lead, options: [.anchored, .caseInsensitive]) == nil {
            let joined = text.first.map { $0.isLetter || $0.isNumber } ?? false
            text = lead + (joined ? " " : "") + text
        }
        let start = lead.flatMap { text.range(of: $0, options: [.anchored, .caseInsensitive])?.upperBound } ?? text.startIndex
        if let cut = stop.filter({ !$0.isEmpty }).compactMap({ text.range(of: $0, range: start..<text.endIndex)?.lowerBound }).min() {
            text = String(text[..<cut])
        }
        return text
    }
}

/// Token counts of one reply.
public struct ChatUsage: Sendable, Equatable, Codable {
    public var promptTokens: Int
    public var completionTokens: Int
    public var cachedTokens: Int

    public init(promptTokens: Int = 0, completionTokens: Int = 0, cachedTokens: Int = 0) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedTokens = cachedTokens
    }
}

/// The model's reply.
public struct ChatResult: Sendable {
    /// The reply text (for JSON formats: the JSON object's text, already validated).
    public var text: String
    public var usage: ChatUsage
    /// True when the answer came from the manifest's cache (no request was made).
    public var fromCache: Bool
    /// The cache key: sha256 of the full request body.
    public var requestKey: String
    public var finishReason: String?
    /// The model name the endpoint reported.
    public var model: String
    /// How many requests were made for it (retries and validation re-asks included; 0 from the cache).
    public var attempts: Int

    public init(text: String, usage: ChatUsage, fromCache: Bool, requestKey: String, finishReason: String?,
                model: String, attempts: Int) {
        self.text = text
        self.usage = usage
        self.fromCache = fromCache
        self.requestKey = requestKey
        self.finishReason = finishReason
        self.model = model
        self.attempts = attempts
    }

    /// The reply parsed as a JSON object (for `.jsonSchema` requests).
    public var jsonObject: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }
}

/// Why a chat request failed.
public struct ChatError: Error, Sendable, CustomStringConvertible, RunStopping {
    public enum Code: String, Sendable {
        /// The endpoint could not be reached or kept failing (connection errors, 5xx, 429 after all retries).
        case unavailable
        /// Billing: retrying cannot help (`insufficient_quota`).
        case insufficientQuota = "insufficient_quota"
        /// The key was refused (401/403).
        case authentication
        /// The request was refused as invalid (400/404/422): a wrong model name, a too-long prompt…
        case badRequest = "bad_request"
        /// The model's output never passed the schema/validator within the allowed attempts.
        case invalidOutput = "invalid_output"
        /// The model refused ("I can't help with that").
        case refusal
        /// The reply was cut at max_tokens.
        case truncated
        case timedOut = "timeout"
        case cancelled
        /// The endpoint asked to wait longer than allowed (`llm.max_wait_seconds`): the run stops.
        case waitTooLong = "wait_too_long"
        /// The request would pass `llm.budget` (per run or per workspace): the run stops before sending it, and a
        /// rerun with a higher budget goes on where it stopped.
        case budgetExhausted = "budget_exhausted"
        /// The endpoint is gone for good (the local llama.cpp server dsbuild started has exited): the run stops with
        /// one line naming its exit status and log; the items stay pending.
        case endpointGone = "endpoint_gone"
        /// Batch mode (`llm.batch`): the request was not in the cache, so it was queued for the Batch API instead of
        /// being sent. Not a failure and not a result: the item stays pending, nothing is recorded for it, and the
        /// stage runner counts it `deferred`; the pass runs again once the batch's answers are in the cache.
        case deferred
    }

    public let code: Code
    public let message: String
    /// The HTTP status of the last response, when there was one.
    public let status: Int?

    public init(_ code: Code, _ message: String, status: Int? = nil) {
        self.code = code
        // Messages quote endpoint URLs and error bodies, which may echo the key: never keep one.
        self.message = SecretRedactor.redact(message)
        self.status = status
    }

    /// Errors after which no further request can succeed: the run should stop with this message.
    public var isFatal: Bool {
        code == .insufficientQuota || code == .authentication || code == .waitTooLong || code == .budgetExhausted || code == .endpointGone
    }

    /// The request was queued for a batch (`Code.deferred`): the item must be left exactly as it is.
    public var isDeferred: Bool { code == .deferred }

    /// Errors a stage's worker must throw on rather than record as an item's failure: fatal ones stop the stage, a
    /// cancellation interrupts it, a deferral leaves the item pending for the batch.
    public var endsItemWork: Bool { isFatal || code == .cancelled || code == .deferred }

    public var description: String { "\(code.rawValue): \(message)" }

    /// A stopped budget closes the stage's run as `budget_exhausted`; any other error as `error`.
    public var runStatus: String { code == .budgetExhausted ? "budget_exhausted" : "error" }
}
