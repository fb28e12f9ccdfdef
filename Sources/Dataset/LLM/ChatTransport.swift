import Foundation

/// One HTTP exchange with a chat-completions endpoint, reduced to what the client needs.
public struct ChatHTTPResponse: Sendable {
    public var status: Int
    /// Header names lower-cased.
    public var headers: [String: String]
    public var body: Data

    public init(status: Int, headers: [String: String], body: Data) {
        self.status = status
        var lowered: [String: String] = [:]
        for (name, value) in headers { lowered[name.lowercased()] = value }
        self.headers = lowered
        self.body = body
    }
}

/// A failure below HTTP: the connection was refused, reset or timed out.
public struct ChatTransportError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case connection, timedOut = "timeout", cancelled
        /// The reply is larger than the transport accepts: asking again would fetch it again.
        case tooLarge = "too_large"
    }
    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = SecretRedactor.redact(detail)
    }

    public var description: String { "\(code.rawValue): \(detail)" }
}

/// Sends a POST with a JSON body. The client owns retries, pacing and caching; a transport sends once.
///
/// Generate's `HTTPChatTransport` sends over the HTTP target's libcurl `HTTPEngine` (Dataset does not import HTTP:
/// the protocol lives here, the engine above). Tests use scripted transports.
public protocol ChatTransport: Sendable {
    func post(url: URL, headers: [(String, String)], body: Data, timeout: TimeInterval) async throws(ChatTransportError) -> ChatHTTPResponse
}
