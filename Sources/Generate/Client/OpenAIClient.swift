import Dataset
import Foundation
import Logging
import Synchronization

/// Settings of the OpenAI-compatible client.
public struct OpenAIClientConfiguration: Sendable {
    /// The API root, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:8080/v1`.
    public var baseURL: URL
    /// Sent as `Authorization: Bearer …`; never logged, never stored.
    public var apiKey: String?
    /// `detail` of image parts (`auto`, `low`, `high`); nil leaves it out (vLLM rejects it).
    public var imageDetail: String?
    public var timeout: TimeInterval
    /// Requests per call for connection errors, 408/409/429/5xx (the first try included).
    public var maxAttempts: Int
    /// Re-asks with the validation error fed back, after the first answer.
    public var maxReasks: Int
    public var backoffBase: Double
    public var backoffMax: Double
    public var limits: RequestPacer.Limits
    public var prices: [String: ModelPrice]
    /// The longest wait a server may ask for (`Retry-After`, `x-ratelimit-reset-*`) before the run stops with
    /// `ChatError.Code.waitTooLong` instead of stalling (recipe `llm.max_wait_seconds`).
    public var maxWaitSeconds: Double = 300
    /// Replies larger than this are refused after one fetch (recipe `llm.max_reply_bytes`; a completion is kilobytes).
    public var maxReplyBytes: Int = 32 << 20
    /// The structured-output format to ask for first (recipe `llm.json_mode`): an endpoint known not to take
    /// `json_schema` starts lower and no request is spent finding out.
    public var initialWireFormat: WireFormat = .jsonSchema
    /// `llm.budget`, kept before each request is sent (nil: no limit).
    public var budget: LLMBudget?
    /// Resolver overrides for the default transport (`host:port:address`), read from `DSBUILD_TEST_RESOLVE`
    /// (comma-separated): tests point api.openai.com at a loopback listener to prove no request is sent there.
    public var resolve: [String] = []
    /// Asked after a request could not connect: nil while the endpoint can still answer, else the one line that says
    /// why it cannot (the local server dsbuild started has exited), which stops the stage (`ChatError.Code.endpointGone`)
    /// instead of spending every retry of every item on a dead server.
    public var endpointCheck: (@Sendable () -> String?)?

    /// Whether the endpoint is this machine (`localhost`, 127.0.0.0/8, `::1`): such requests never go through a proxy.
    public var isLoopback: Bool {
        let host = (baseURL.host ?? "").lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host == "localhost" || host.hasSuffix(".localhost") || host == "::1" || host.hasPrefix("127.")
    }

    public init(baseURL: URL, apiKey: String?, imageDetail: String? = "auto", timeout: TimeInterval = 120,
                maxAttempts: Int = 6, maxReasks: Int = 2, backoffBase: Double = 0.5, backoffMax: Double = 30,
                limits: RequestPacer.Limits = .init(), prices: [String: ModelPrice] = [:]) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.imageDetail = imageDetail
        self.timeout = timeout
        self.maxAttempts = maxAttempts
        self.maxReasks = maxReasks
        self.backoffBase = backoffBase
        self.backoffMax = backoffMax
        self.limits = limits
        self.prices = prices
    }

    public static let defaultBaseURL = URL(string: "https://api.openai.com/v1")!

    /// Reads the endpoint and key from the environment: `OPENAI_BASE_URL` / `OPENAI_API_KEY`, or the variables the
    /// recipe names (`llm.base_url_env`, `llm.api_key_env`).
    public static func fromEnvironment(_ environment: [String: String], baseURLVariable: String = "OPENAI_BASE_URL",
                                       apiKeyVariable: String = "OPENAI_API_KEY") -> OpenAIClientConfiguration {
        SecretRedactor.register(variables: [apiKeyVariable], in: environment)
        let base = environment[baseURLVariable].flatMap { $0.isEmpty ? nil : URL(string: $0) } ?? defaultBaseURL
        // Credentials in the endpoint URL (`http://user:pw@host/v1`) are secrets too.
        for part in [base.user, base.password] {
            if let part, !part.isEmpty { SecretRedactor.register(secret: part) }
        }
        // A key pasted from a Windows .env ends in \r: send the key, not its line ending.
        let key = environment[apiKeyVariable].map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
        return OpenAIClientConfiguration(baseURL: base, apiKey: key)
    }

    /// `<base>/chat/completions`, the base's query (`?api-version=…`, as Azure endpoints take) kept after it.
    var completionsURL: URL {
        guard var components = URLComponents(url: baseURL, resolvingAgainstBaseURL: false) else {
            return baseURL.appendingPathComponent("chat/completions")
        }
        let path = components.percentEncodedPath
        components.percentEncodedPath = (path.hasSuffix("/") ? String(path.dropLast()) : path) + "/chat/completions"
        return components.url ?? baseURL.appendingPathComponent("chat/completions")
    }
}

/// The OpenAI chat-completions client: cache, pacing, retries, structured-output fallbacks and validation.
///
/// Flow of one `complete`: build the body for the best wire format the endpoint has accepted so far
/// (`json_schema` → `json_object` → text with the schema in the prompt and the first JSON object extracted);
/// answer from `llm_cache` by the body's sha256, else send it (paced, retried with backoff honouring
/// `retry-after(-ms)` and `x-ratelimit-reset-*`) and store the raw response before using it; validate against
/// the schema and the request's validator; on a problem, re-ask with the error fed back, up to `maxReasks`. A
/// request with `replaysOnlyValidAnswers` (the judges) takes from the cache only answers that pass: a cached
/// non-answer is asked again, so a judge's failure is retried on the next run.
public final class OpenAIClient: ChatService {
    public let configuration: OpenAIClientConfiguration
    public let ledger: UsageLedger
    public let pacer: RequestPacer
    private let transport: any ChatTransport
    private let cache: LLMCache?
    private let logger: Logger
    /// The best wire format the endpoint accepted; lowered for the client's lifetime when it refuses one.
    private let wireFormat: Mutex<WireFormat>
    /// Batch mode (`llm.batch`): a request not answered by the cache is queued here and `ChatError.deferred` is
    /// thrown instead of sending it; nothing is ever sent online. Nil: the online client.
    public let batchQueue: BatchQueue?

    public init(configuration: OpenAIClientConfiguration, transport: (any ChatTransport)? = nil,
                cache: LLMCache?, logger: Logger = Logger(label: "dsbuild.llm"), batchQueue: BatchQueue? = nil) {
        self.configuration = configuration
        self.batchQueue = batchQueue
        self.transport = transport ?? (HTTPChatTransport(maxBodyBytes: configuration.maxReplyBytes, resolve: configuration.resolve,
                                                         direct: configuration.isLoopback) as any ChatTransport)
        self.cache = cache
        self.logger = logger
        wireFormat = Mutex(configuration.initialWireFormat)
        ledger = UsageLedger(prices: configuration.prices)
        var limits = configuration.limits
        limits.maxWaitSeconds = configuration.maxWaitSeconds
        pacer = RequestPacer(limits: limits)
    }

    public var currentWireFormat: WireFormat { wireFormat.withLock { $0 } }

    /// Keys held by batches in flight, read once per client (online only; nil until the first cache miss).
    private let batchHeld = Mutex<[String: String]?>(nil)

    /// The batch holding `key` when the online client must not send it; nil in batch mode or when none holds it.
    private func heldByBatch(_ key: String, cache: LLMCache) async throws(ChatError) -> String? {
        guard batchQueue == nil else { return nil }
        if let held = batchHeld.withLock({ $0 }) { return held[key] }
        let held: [String: String]
        do { held = try await cache.keysHeldByBatches() } catch {
            throw ChatError(.unavailable, "could not read the batches in flight from the manifest (llm_batches): \(error) — the request was not sent")
        }
        batchHeld.withLock { $0 = held }
        return held[key]
    }

    public func complete(_ request: ChatRequest) async throws(ChatError) -> ChatResult {
        var conversation = request.messages
        var firstKey: String?
        var attempts = 0
        var allFromCache = true
        var usage = ChatUsage()
        var lastProblem = ""
        var reasks = 0
        // Set when a cached answer was not replayed (`replaysOnlyValidAnswers`): the same turn is sent to the endpoint.
        var bypassCache = false
        let validator: JSONSchemaValidator? = {
            if case .jsonSchema(_, let schema) = request.responseFormat { return JSONSchemaValidator(schema: schema) }
            return nil
        }()
        while true {
            if Task.isCancelled { throw ChatError(.cancelled, "cancelled") }
            let format = validator == nil ? WireFormat.text : currentWireFormat
            var wireRequest = request
            wireRequest.messages = conversation
            if format != .jsonSchema, case .jsonSchema(_, let schema) = request.responseFormat {
                wireRequest.messages.insert(.system(ChatRequestBody.schemaInstruction(schema)), at: 0)
            }
            let body = ChatRequestBody.data(ChatRequestBody.object(for: wireRequest, format: format,
                                                                   detail: configuration.imageDetail))
            let key = LLMCache.key(for: body)
            if firstKey == nil { firstKey = key }

            var raw: String?
            var cachedTurn = false
            // An answer a batch brought during this command is the answer to this request, also under --refresh.
            let answeredByBatch = batchQueue?.wasAnswered(key) == true
            if !request.refresh || answeredByBatch, !bypassCache, let cache, let entry = try? await cache.lookup(key),
               Self.completionProblem(Data(entry.response.utf8)) == nil {  // an older run's bad entry is not replayed
                raw = entry.response
                cachedTurn = true
                ledger.update { $0.cacheHits += 1 }
            }
            bypassCache = false
            if raw == nil, let batchQueue {
                // Batch mode: the request goes to the next batch, never online. A request new to the queue is asked of
                // the budget at the batch price and counted at its worst case (its real usage arrives with the batch).
                if let budget = configuration.budget, !batchQueue.holds(key) {
                    let reservation = try await budget.admit(body: body, purpose: request.purpose, batch: true)
                    budget.settle(reservation, usage: reservation.asUsage, measured: false)
                }
                throw batchQueue.enqueue(QueuedRequest(key: key, model: request.model, purpose: request.purpose, body: body))
            }
            if raw == nil, let cache, let batch = try await heldByBatch(key, cache: cache) {
                // The online path never sends what a batch in flight holds: it would be paid twice, and the batch's
                // answer would arrive for a request already answered. The item stays pending.
                let line = "request \(key.prefix(12)) is in batch \(batch) in flight: run with --batch or `dsbuild batch cancel`"
                logger.warning("\(line)")
                throw ChatError(.deferred, line)
            }
            if raw == nil {
                allFromCache = false
                let sent = try await send(body, model: request.model, purpose: request.purpose, attempts: &attempts)
                switch sent {
                case .refused(let message):
                    guard format < .text else { throw ChatError(.badRequest, message, status: 400) }
                    let lower = WireFormat(rawValue: format.rawValue + 1)!
                    wireFormat.withLock { $0 = max($0, lower) }
                    ledger.update { $0.formatFallbacks += 1 }
                    logger.info("endpoint refused the response format; falling back", metadata: ["llm.format": "\(lower)"])
                    continue
                case .ok(let text):
                    raw = text
                }
            }
            let reply = try parse(raw!, storeKey: key, request: request, fromCache: allFromCache)
            if let refusal = reply.refusal {
                if cachedTurn && request.replaysOnlyValidAnswers && !answeredByBatch {
                    (bypassCache, allFromCache) = (true, false)
                    ledger.update { $0.cacheHits -= 1 }
                    continue
                }
                throw ChatError(.refusal, refusal)
            }

            var text = request.shaped(reply.content)
            var problem: String?
            if let validator {
                let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if (try? JSONSerialization.jsonObject(with: Data(trimmed.utf8))) is [String: Any] {
                    text = trimmed
                } else if let extracted = JSONExtraction.firstObject(in: text) {
                    text = extracted
                } else {
                    problem = reply.finishReason == "length"
                        ? "the reply was cut at max_tokens before the JSON object ended; answer more briefly"
                        : "the reply contains no JSON object"
                }
                if problem == nil { problem = validator.validate(text: text) }
            }
            if problem == nil, let check = request.validator { problem = check(text) }
            // A cached answer that is no answer is not replayed for such a request: the endpoint is asked again.
            if problem != nil && cachedTurn && request.replaysOnlyValidAnswers && !answeredByBatch {
                (bypassCache, allFromCache) = (true, false)
                ledger.update { $0.cacheHits -= 1 }
                continue
            }
            if !allFromCache || reply.usage.promptTokens > 0 {
                usage.promptTokens += reply.usage.promptTokens
                usage.completionTokens += reply.usage.completionTokens
                usage.cachedTokens += reply.usage.cachedTokens
            }
            guard let problem else {
                return ChatResult(text: text, usage: usage, fromCache: allFromCache, requestKey: firstKey!,
                                  finishReason: reply.finishReason, model: reply.model ?? request.model,
                                  attempts: attempts)
            }
            lastProblem = problem
            guard request.reasksOnRejection, reasks < configuration.maxReasks else { break }
            reasks += 1
            ledger.update { $0.reasks += 1 }
            conversation.append(.assistant(reply.content))
            conversation.append(.user("Your reply was rejected: \(problem). Answer again, following the instructions exactly."))
        }
        throw ChatError(.invalidOutput, "after \(reasks + 1) answers the output still fails validation: \(lastProblem)")
    }

    // MARK: - Sending

    private enum Sent {
        case ok(String)
        /// The endpoint refused the `response_format` (400 naming it): step down and try again.
        case refused(String)
    }

    private func send(_ body: Data, model: String, purpose: String, attempts: inout Int) async throws(ChatError) -> Sent {
        var headers = [("Content-Type", "application/json"), ("Accept", "application/json")]
        if let key = configuration.apiKey { headers.append(("Authorization", "Bearer \(key)")) }
        let estimated = body.count / 4 + 256
        var lastMessage = "no attempt made"
        var lastStatus: Int?
        // What dsbuild's approximation makes of the prompt, kept beside the real count (the estimate's calibration).
        let approximated = RequestTokens.of(body: body)
        for attempt in 1...max(configuration.maxAttempts, 1) {
            if Task.isCancelled { throw ChatError(.cancelled, "cancelled") }
            // Every attempt is asked of the budget before it is sent (a retried 200 without an answer may be billed
            // too), and settled with what the endpoint billed: its usage, or the worst case when a reply it answered
            // reports none (or nonsense).
            let reservation = try await configuration.budget?.admit(body: body, purpose: purpose)
            var billed: ChatUsage?
            var measured = true
            defer { if let reservation { configuration.budget?.settle(reservation, usage: billed, measured: measured) } }
            do {
                try await pacer.acquire(estimatedTokens: estimated)
            } catch let error as RequestPacer.WaitTooLong {
                throw ChatError(.waitTooLong, """
                    \(configuration.completionsURL.absoluteString) closed its rate-limit window for \(Self.seconds(error.seconds.rounded())) \
                    (x-ratelimit-remaining 0, x-ratelimit-reset), more than llm.max_wait_seconds \
                    (\(Self.seconds(configuration.maxWaitSeconds))); stopped instead of stalling — run again later or raise llm.max_wait_seconds
                    """)
            } catch {
                throw ChatError(.cancelled, "cancelled while waiting for the rate limiter")
            }
            attempts += 1
            ledger.update { $0.requests += 1; if attempt > 1 { $0.retries += 1 } }
            var wait: Double?
            do {
                let response = try await transport.post(url: configuration.completionsURL, headers: headers,
                                                        body: body, timeout: configuration.timeout)
                let reported = Self.usage(in: response.body)
                await pacer.release(actualTokens: reported.map { $0.promptTokens + $0.completionTokens }, estimatedTokens: estimated)
                await pacer.observe(headers: response.headers)
                if (200..<300).contains(response.status) {
                    if let reported {
                        billed = reported
                    } else if Self.completionProblem(response.body) == nil, let reservation {
                        (billed, measured) = (reservation.asUsage, false)
                    }
                }
                if (200..<300).contains(response.status), let problem = Self.completionProblem(response.body) {
                    // A 200 that is not a chat completion (a proxy's login page, no choices, no content) is the
                    // endpoint failing, not an answer: never cached, asked again.
                    lastStatus = response.status
                    lastMessage = "HTTP \(response.status) from \(configuration.baseURL.host ?? "the endpoint") is not a chat completion (\(problem)): \(Self.excerpt(response.body))"
                } else if (200..<300).contains(response.status) {
                    // An endpoint that echoes the API key inside a completion: the key is masked before the reply is
                    // stored or used, so it reaches neither llm_cache nor what is written from the reply.
                    let text = SecretRedactor.redactRegisteredSecrets(String(decoding: response.body, as: UTF8.self))
                    // Stored before anything uses it: a kill after this point never pays again.
                    if let cache {
                        do {
                            // A reply without a usable count is stored at the worst case it was counted at (so a later
                            // command's workspace budget still sees it) and calibrates nothing.
                            try await cache.store(key: LLMCache.key(for: body), model: model, purpose: purpose,
                                                  response: text, usage: reported ?? billed ?? ChatUsage(),
                                                  estimatedPromptTokens: reported == nil ? nil : Int(approximated.prompt.rounded()))
                        } catch {
                            logger.warning("could not store the response in llm_cache", metadata: ["error": "\(error)"])
                        }
                    }
                    return .ok(text)
                } else {
                    let apiError = APIError(response.body)
                    lastStatus = response.status
                    lastMessage = "HTTP \(response.status) from \(configuration.baseURL.host ?? "the endpoint"): \(apiError.message)"
                    if apiError.code == "insufficient_quota" || apiError.type == "insufficient_quota" {
                        throw ChatError(.insufficientQuota, "\(lastMessage) — add credit or use another key; retrying cannot help",
                                        status: response.status)
                    }
                    switch response.status {
                    case 401, 403:
                        throw ChatError(.authentication, "\(lastMessage) — check the API key variable", status: response.status)
                    case 408, 409, 429, 500...:
                        if response.status == 429 { ledger.update { $0.rateLimited += 1 } }
                        wait = RateLimitHeaders.retryAfter(response.headers) ?? Self.resetWait(response.headers)
                        if let asked = wait, asked > configuration.maxWaitSeconds {
                            throw ChatError(.waitTooLong, """
                                \(configuration.completionsURL.absoluteString) asked to wait \(Self.seconds(asked)) (HTTP \(response.status)), \
                                more than llm.max_wait_seconds (\(Self.seconds(configuration.maxWaitSeconds))); stopped instead of stalling — \
                                run again later or raise llm.max_wait_seconds
                                """, status: response.status)
                        }
                        if response.status == 429, let wait { await pacer.pause(for: wait) }
                    case 400 where apiError.mentionsResponseFormat:
                        return .refused(lastMessage)
                    default:
                        throw ChatError(.badRequest, lastMessage, status: response.status)
                    }
                }
            } catch let error as ChatTransportError {
                await pacer.release(actualTokens: nil, estimatedTokens: estimated)
                if error.code == .cancelled { throw ChatError(.cancelled, "cancelled") }
                if error.code == .tooLarge {
                    // The same request would bring the same reply: one fetch, not maxAttempts.
                    throw ChatError(.unavailable, "the reply of \(configuration.baseURL.host ?? "the endpoint") is too large, not asked again: \(error.detail)")
                }
                lastMessage = "\(configuration.baseURL.host ?? "the endpoint"): \(error.detail)"
                lastStatus = nil
                if error.code == .connection, let gone = configuration.endpointCheck?() { throw ChatError(.endpointGone, gone) }
            } catch let error as ChatError {
                throw error
            } catch {
                await pacer.release(actualTokens: nil, estimatedTokens: estimated)
                lastMessage = "\(error)"
            }
            guard attempt < configuration.maxAttempts else { break }
            let backoff = min(configuration.backoffMax, configuration.backoffBase * pow(2, Double(attempt - 1)))
            // What the server asks is honoured in full (it is at most maxWaitSeconds, checked above).
            let delay = wait ?? backoff * Double.random(in: 0.5...1.0)
            logger.debug("retrying", metadata: ["llm.attempt": "\(attempt)", "llm.wait_s": "\(delay)", "llm.error": "\(lastMessage)"])
            ProgressReporter.announceWait(seconds: delay, for: "\(configuration.baseURL.host ?? "the endpoint") (\(wait == nil ? "backoff after: \(lastMessage.prefix(120))" : "the server asked"))")
            do { try await Task.sleep(for: .seconds(delay)) } catch { throw ChatError(.cancelled, "cancelled") }
        }
        let code: ChatError.Code = lastStatus == nil && lastMessage.contains("timeout") ? .timedOut : .unavailable
        throw ChatError(code, "gave up after \(attempts) attempts: \(lastMessage)", status: lastStatus)
    }

    /// The wait the `x-ratelimit-reset-*` headers imply when a window is exhausted.
    static func resetWait(_ headers: [String: String]) -> Double? {
        let waits = ["requests", "tokens"].compactMap { kind -> Double? in
            guard headers["x-ratelimit-remaining-\(kind)"].flatMap(Int.init) == 0 || headers["x-ratelimit-remaining-\(kind)"] == nil
            else { return nil }
            return headers["x-ratelimit-reset-\(kind)"].flatMap(RateLimitHeaders.duration)
        }
        return waits.max()
    }

    /// Why a 2xx body is not a chat completion (nil when it is one): not JSON, no `choices`, empty `choices`, or
    /// a first choice without a message, content or refusal.
    static func completionProblem(_ body: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return "not a JSON object" }
        guard let choices = object["choices"] as? [Any] else { return "no choices" }
        guard let first = choices.first as? [String: Any] else { return "empty choices" }
        guard let message = first["message"] as? [String: Any] else { return "the first choice has no message" }
        if message["content"] is String || message["content"] is [Any] { return nil }
        if let refusal = message["refusal"] as? String, !refusal.isEmpty { return nil }
        return "the message has no content"
    }

    /// The start of a body for a message, on one line.
    static func excerpt(_ body: Data) -> String {
        let text = String(decoding: body.prefix(160), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    static func seconds(_ value: Double) -> String {
        value.rounded() == value ? "\(Int(value)) s" : String(format: "%.1f s", value)
    }

    // MARK: - Parsing

    struct Reply {
        var content: String
        var refusal: String?
        var finishReason: String?
        var model: String?
        var usage: ChatUsage
    }

    private func parse(_ raw: String, storeKey: String, request: ChatRequest, fromCache: Bool) throws(ChatError) -> Reply {
        guard let object = try? JSONSerialization.jsonObject(with: Data(raw.utf8)) as? [String: Any],
              let choices = object["choices"] as? [[String: Any]], let first = choices.first else {
            throw ChatError(.unavailable, "the endpoint's reply is not a chat completion: \(raw.prefix(200))")
        }
        let message = first["message"] as? [String: Any] ?? [:]
        var content = message["content"] as? String ?? ""
        if content.isEmpty, let parts = message["content"] as? [[String: Any]] {
            content = parts.compactMap { $0["text"] as? String }.joined()
        }
        let usage = Self.usage(in: Data(raw.utf8)) ?? ChatUsage()
        if !fromCache { ledger.charge(model: request.model, usage: usage) }
        return Reply(content: content, refusal: (message["refusal"] as? String).flatMap { $0.isEmpty ? nil : $0 },
                     finishReason: first["finish_reason"] as? String, model: object["model"] as? String, usage: usage)
    }

    /// The reply's `usage`, nil unless `prompt_tokens` and `completion_tokens` are both whole numbers ≥ 0 (an empty,
    /// negative, fractional or textual count is no count: the budget then counts the request's worst case).
    static func usage(in body: Data) -> ChatUsage? {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any],
              let usage = object["usage"] as? [String: Any],
              let prompt = count(usage["prompt_tokens"]), let completion = count(usage["completion_tokens"]) else { return nil }
        let details = usage["prompt_tokens_details"] as? [String: Any]
        return ChatUsage(promptTokens: prompt, completionTokens: completion,
                         cachedTokens: min(count(details?["cached_tokens"]) ?? 0, prompt))
    }

    /// A token count: a JSON whole number ≥ 0 (not a fraction, not a string).
    private static func count(_ value: Any?) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        guard double >= 0, double.rounded() == double, double < 1e12 else { return nil }
        return Int(double)
    }
}

/// The `{"error": {...}}` body of a failed request; `code` is a string (OpenAI) or a number (llama.cpp).
struct APIError {
    var message = ""
    var type: String?
    var code: String?
    var param: String?

    init(_ body: Data) {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            message = String(decoding: body.prefix(300), as: UTF8.self)
            return
        }
        let error = object["error"] as? [String: Any] ?? object
        message = error["message"] as? String ?? (object["error"] as? String) ?? ""
        type = error["type"] as? String
        if let code = error["code"] as? String { self.code = code }
        else if let code = error["code"] as? Int { self.code = String(code) }
        param = error["param"] as? String
    }

    var mentionsResponseFormat: Bool {
        let text = "\(message) \(param ?? "")".lowercased()
        return text.contains("response_format") || text.contains("json_schema") || text.contains("json schema")
    }
}
