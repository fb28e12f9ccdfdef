import Dataset
import Foundation
import Synchronization

/// A scripted OpenAI-compatible chat-completions endpoint with the real response and error shapes, for tests of
/// everything that talks to a model (describe, mcq, the VLM judge, eval).
///
/// It is a `ChatTransport`, so clients use it in process; the same responder can be mounted on the loopback HTTP
/// server once that is on main. Each request's JSON body is recorded; `requestCount` and `bodies` let a test
/// prove retries, cache hits and fallbacks.
public final class FakeChatEndpoint: ChatTransport {
    /// What the endpoint does with one request.
    public enum Behaviour: Sendable {
        /// 200 with this assistant content.
        case content(String, finishReason: String = "stop")
        /// 200 with a `refusal` field and no content (OpenAI structured-output refusal).
        case refusal(String)
        /// 200 whose body is not JSON at all.
        case malformedBody
        /// 429 rate limit with these headers (e.g. `retry-after`, `x-ratelimit-reset-requests`).
        case rateLimited(headers: [String: String])
        /// 429 `insufficient_quota` (billing).
        case insufficientQuota
        /// An error status with an OpenAI-shaped error body.
        case error(status: Int, message: String, code: String? = nil)
        /// llama.cpp's shape: `{"error": {"code": 503, "type": "unavailable_error", …}}`.
        case llamaError(status: Int, message: String)
        /// The connection drops before a response.
        case dropConnection
        /// Exactly this status, content type and body (an HTML login page with 200, a 200 without `choices`…).
        case raw(status: Int, contentType: String, body: String, headers: [String: String] = [:])
        /// Waits, then behaves as `then`.
        indirect case slow(seconds: Double, then: Behaviour)
    }

    /// How the endpoint treats `response_format: json_schema`.
    public enum SchemaSupport: Sendable {
        case honoured
        /// Accepts the field and ignores it (returns whatever the responder says).
        case ignored
        /// 400 naming `response_format` for json_schema; json_object accepted.
        case rejectsJSONSchema
        /// 400 for any `response_format`.
        case rejectsAll
    }

    public struct Limits: Sendable {
        /// Requests allowed per sliding `window`; beyond it the fake answers 429 (and counts it).
        public var requests: Int
        public var window: Double
        public init(requests: Int, window: Double = 60) {
            self.requests = requests
            self.window = window
        }
    }

    private struct State {
        var script: [Behaviour] = []
        var bodies: [Data] = []
        var authorizations: [String] = []
        var starts: [Double] = []
        var over: Int = 0
    }

    private let state = Mutex(State())
    private let responder: @Sendable ([String: Any]) -> Behaviour
    public let schemaSupport: SchemaSupport
    public let latency: Double
    public let limits: Limits?
    public let model: String
    /// Counts the `usage` of a 200 answer from the request and the content (nil: 100 prompt, 20 completion tokens).
    public let usage: (@Sendable ([String: Any], String) -> (prompt: Int, completion: Int))?

    /// `responder` answers requests once the script (see `enqueue`) is used up.
    public init(schemaSupport: SchemaSupport = .honoured, latency: Double = 0, limits: Limits? = nil,
                model: String = "fake-model", responder: @escaping @Sendable ([String: Any]) -> Behaviour = { _ in .content("ok") },
                usage: (@Sendable ([String: Any], String) -> (prompt: Int, completion: Int))? = nil) {
        self.usage = usage
        self.schemaSupport = schemaSupport
        self.latency = latency
        self.limits = limits
        self.model = model
        self.responder = responder
    }

    /// Queues behaviours for the next requests, in order, before the responder takes over.
    public func enqueue(_ behaviours: Behaviour...) {
        state.withLock { $0.script.append(contentsOf: behaviours) }
    }

    public var requestCount: Int { state.withLock { $0.bodies.count } }
    /// The JSON bodies received, in order.
    public var bodies: [[String: Any]] {
        state.withLock { $0.bodies }.map { (try? JSONSerialization.jsonObject(with: $0) as? [String: Any]) ?? [:] }
    }
    public var authorizationHeaders: [String] { state.withLock { $0.authorizations } }
    /// 429s the fake sent because its advertised limit was exceeded.
    public var limitViolations: Int { state.withLock { $0.over } }

    /// The last user text of a request body (what a responder usually keys on).
    public static func lastUserText(_ body: [String: Any]) -> String { userText(body, first: false) }

    /// The text of the first user message: the task itself, also when later turns re-ask.
    public static func firstUserText(_ body: [String: Any]) -> String { userText(body, first: true) }

    static func userText(_ body: [String: Any], first: Bool) -> String {
        let messages = body["messages"] as? [[String: Any]] ?? []
        for message in first ? messages : messages.reversed() where message["role"] as? String == "user" {
            if let text = message["content"] as? String { return text }
            if let parts = message["content"] as? [[String: Any]] {
                return parts.compactMap { $0["text"] as? String }.joined(separator: "\n")
            }
        }
        return ""
    }

    /// One reply as the endpoint decides it: a response (or a dropped connection) after `delay` seconds.
    public struct Reply: Sendable {
        public var response: ChatHTTPResponse?
        public var delay: Double
    }

    /// Decides the reply to one request (records it, applies the limits and the script). Shared by the
    /// in-process transport and the loopback server.
    public func reply(body: Data, authorization: String?) -> Reply {
        let object = (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:]
        let now = Date().timeIntervalSinceReferenceDate
        let (scripted, limited): (Behaviour?, Bool) = state.withLock { state in
            state.bodies.append(body)
            state.authorizations.append(authorization ?? "")
            var limited = false
            if let limits {
                state.starts.removeAll { now - $0 >= limits.window }
                if state.starts.count >= limits.requests { limited = true; state.over += 1 } else { state.starts.append(now) }
            }
            return (state.script.isEmpty ? nil : state.script.removeFirst(), limited)
        }
        if limited {
            let wait = Int((limits?.window ?? 1) * 1000 / Double(limits?.requests ?? 1))
            return Reply(response: error(429, "Rate limit reached for requests", code: "rate_limit_exceeded",
                                         headers: ["retry-after-ms": "\(wait)"]), delay: latency)
        }
        if let format = (object["response_format"] as? [String: Any])?["type"] as? String {
            switch (schemaSupport, format) {
            case (.rejectsJSONSchema, "json_schema"), (.rejectsAll, _):
                return Reply(response: error(400, "Invalid parameter: 'response_format' of type '\(format)' is not supported with this model.",
                                             code: nil, param: "response_format"), delay: latency)
            default: break
            }
        }
        var reply = respond(scripted ?? responder(object), request: object)
        reply.delay += latency
        return reply
    }

    public func post(url: URL, headers: [(String, String)], body: Data, timeout: TimeInterval) async throws(ChatTransportError) -> ChatHTTPResponse {
        let reply = reply(body: body, authorization: headers.first { $0.0.lowercased() == "authorization" }?.1)
        if reply.delay > 0 {
            do { try await Task.sleep(for: .seconds(reply.delay)) } catch { throw ChatTransportError(.cancelled, "cancelled") }
        }
        guard let response = reply.response else { throw ChatTransportError(.connection, "connection reset by peer") }
        return response
    }

    /// Serves the endpoint at `http://127.0.0.1:PORT/v1/chat/completions` (base URL: `server.url("/v1")`).
    public func serve() throws -> LoopbackHTTPServer {
        try LoopbackHTTPServer { [self] request in
            guard request.path == "/v1/chat/completions", request.method == "POST" else {
                return .status(404, body: #"{"error":{"message":"not found","type":"invalid_request_error","code":null}}"#)
            }
            let reply = self.reply(body: request.body, authorization: request.header("Authorization"))
            var response: LoopbackResponse
            if let chat = reply.response {
                response = LoopbackResponse.status(chat.status, headers: chat.headers.map { (name: $0.key, value: $0.value) },
                                                   body: String(decoding: chat.body, as: UTF8.self))
            } else {
                response = .fault(.resetBeforeResponse)
            }
            if reply.delay > 0 { response.delayBeforeHeaders = .milliseconds(Int(reply.delay * 1000)) }
            return response
        }
    }

    private func respond(_ behaviour: Behaviour, request: [String: Any]) -> Reply {
        switch behaviour {
        case .content(let text, let finish):
            return Reply(response: success(message: ["role": "assistant", "content": text, "refusal": NSNull()], finish: finish,
                                           usage: usage?(request, text)), delay: 0)
        case .refusal(let text):
            return Reply(response: success(message: ["role": "assistant", "content": NSNull(), "refusal": text], finish: "stop"), delay: 0)
        case .malformedBody:
            return Reply(response: ChatHTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: Data("{\"choices\": [".utf8)), delay: 0)
        case .rateLimited(let headers):
            return Reply(response: error(429, "Rate limit reached for requests per min (RPM)", code: "rate_limit_exceeded", headers: headers), delay: 0)
        case .insufficientQuota:
            return Reply(response: error(429, "You exceeded your current quota, please check your plan and billing details.",
                                         code: "insufficient_quota", type: "insufficient_quota"), delay: 0)
        case .error(let status, let message, let code):
            return Reply(response: error(status, message, code: code), delay: 0)
        case .llamaError(let status, let message):
            let body: [String: Any] = ["error": ["code": status, "message": message, "type": "unavailable_error"]]
            return Reply(response: ChatHTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: Self.json(body)), delay: 0)
        case .dropConnection:
            return Reply(response: nil, delay: 0)
        case .raw(let status, let contentType, let body, let headers):
            return Reply(response: ChatHTTPResponse(status: status, headers: headers.merging(["Content-Type": contentType]) { $1 },
                                                    body: Data(body.utf8)), delay: 0)
        case .slow(let seconds, let then):
            var reply = respond(then, request: request)
            reply.delay += seconds
            return reply
        }
    }

    private func success(message: [String: Any], finish: String, usage counted: (prompt: Int, completion: Int)? = nil) -> ChatHTTPResponse {
        let (prompt, completion) = counted ?? (100, 20)
        let body: [String: Any] = [
            "id": "chatcmpl-\(UUID().uuidString.prefix(8))", "object": "chat.completion", "created": 1_700_000_000,
            "model": model,
            "choices": [["index": 0, "message": message, "finish_reason": finish, "logprobs": NSNull()]],
            "usage": ["prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                      "prompt_tokens_details": ["cached_tokens": 0], "completion_tokens_details": ["reasoning_tokens": 0]],
        ]
        var headers = ["Content-Type": "application/json", "x-request-id": "req_\(UUID().uuidString.prefix(8))"]
        if let limits {
            headers["x-ratelimit-limit-requests"] = "\(Int(Double(limits.requests) * 60 / limits.window))"
        }
        return ChatHTTPResponse(status: 200, headers: headers, body: Self.json(body))
    }

    private func error(_ status: Int, _ message: String, code: String?, type: String = "invalid_request_error",
                       param: String? = nil, headers: [String: String] = [:]) -> ChatHTTPResponse {
        let errorType: String = status == 429 && code != "insufficient_quota" ? "requests" : type
        let error: [String: Any] = ["message": message, "type": errorType,
                                    "param": param.map { $0 as Any } ?? NSNull(), "code": code.map { $0 as Any } ?? NSNull()]
        let body: [String: Any] = ["error": error]
        var all = headers
        all["Content-Type"] = "application/json"
        return ChatHTTPResponse(status: status, headers: all, body: Self.json(body))
    }

    static func json(_ object: Any) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    }
}
