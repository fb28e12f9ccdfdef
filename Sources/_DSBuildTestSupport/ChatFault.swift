import Dataset
import Foundation
import Synchronization

/// A failure a broken or hostile chat-completions endpoint answers with. Each fault answers the first
/// `failingAttempts` requests with the same body and then lets the normal answer through.
public enum ChatFault: String, CaseIterable, Sendable {
    case none
    /// 429 with `retry-after-ms: 300`.
    case rateLimited
    /// 500 whose error message echoes the API key.
    case serverErrorEchoingKey
    /// llama.cpp's 503 shape, echoing the key.
    case unavailableEchoingKey
    /// The connection drops before a response.
    case droppedConnection
    /// A 200 HTML login page (a proxy in the way), echoing the key: not a completion, never to be cached.
    case htmlLoginPage
    /// A 200 JSON body without `choices`: not a completion, never to be cached.
    case noChoices
    /// A real completion whose content is not the JSON asked for (only for requests with `response_format`):
    /// paid and cached; the caller re-asks with a longer conversation (a new request).
    case malformedContent

    /// Requests answered with the fault before the normal answer. A malformed answer is what the model says to
    /// that request, every time (a paid answer must depend on the request only, or a rerun could not match).
    public var failingAttempts: Int {
        switch self {
        case .none: 0
        case .unavailableEchoingKey: 2
        case .malformedContent: .max
        default: 1
        }
    }

    /// Whether the answer to a faulted attempt is a completion the client pays for.
    public var faultIsPaid: Bool { self == .malformedContent }
}

/// A chat responder that injects `ChatFault`s deterministically per request (chosen by a hash of the request's
/// canonical JSON, so a rerun sees the same faults) in front of `base`, and counts requests and paid completions
/// per request key, so a test can prove no request was paid twice.
public final class FaultyChatResponder: Sendable {
    private let base: @Sendable ([String: Any]) -> FakeChatEndpoint.Behaviour
    private let secret: String
    /// Requests per key.
    public let requests = AttemptLedger()
    /// Completions answered (paid for) per key.
    public let paid = AttemptLedger()
    /// Faulted answers sent, per fault.
    public let faultsServed = AttemptLedger()

    /// `secret` is echoed in error bodies, as endpoints that print the key they were given do.
    public init(echoing secret: String, base: @escaping @Sendable ([String: Any]) -> FakeChatEndpoint.Behaviour) {
        self.secret = secret
        self.base = base
    }

    /// The request's key: sha256 of its JSON with sorted keys (equal bodies, equal keys).
    public static func key(_ body: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
        return ContentHash.sha256Hex(data)
    }

    /// The fault this request gets: a third of the requests answer normally, the rest one fault each.
    public static func fault(for key: String) -> ChatFault {
        let byte = Int(key.prefix(2), radix: 16) ?? 0
        let faults = ChatFault.allCases.filter { $0 != .none }
        let index = byte % (faults.count + faults.count / 2)
        return index < faults.count ? faults[index] : .none
    }

    /// Starts a new series (a new workspace from scratch).
    public func reset() {
        requests.reset()
        paid.reset()
        faultsServed.reset()
    }

    public func respond(_ body: [String: Any]) -> FakeChatEndpoint.Behaviour {
        let key = Self.key(body)
        let attempt = requests.next(key)
        var fault = Self.fault(for: key)
        if fault == .malformedContent, body["response_format"] == nil { fault = .none }
        guard attempt <= fault.failingAttempts else {
            let behaviour = base(body)
            if case .content = behaviour { paid.next(key) }
            return behaviour
        }
        faultsServed.next(fault.rawValue)
        let echo = "Incorrect API key provided: \(secret). Authorization: Bearer \(secret)"
        switch fault {
        case .none:
            return base(body)
        case .rateLimited:
            return .rateLimited(headers: ["retry-after-ms": "300"])
        case .serverErrorEchoingKey:
            return .error(status: 500, message: "internal error for \(echo)")
        case .unavailableEchoingKey:
            return .llamaError(status: 503, message: "loading model; \(echo)")
        case .droppedConnection:
            return .dropConnection
        case .htmlLoginPage:
            return .raw(status: 200, contentType: "text/html",
                        body: "<html><body><form>Sign in to the proxy. \(echo)</form></body></html>")
        case .noChoices:
            return .raw(status: 200, contentType: "application/json",
                        body: #"{"id":"chatcmpl-x","object":"chat.completion","model":"fake-model","choices":[]}"#)
        case .malformedContent:
            paid.next(key)
            return .content(#"{"question": "unterminated, "answer": "#)
        }
    }
}
