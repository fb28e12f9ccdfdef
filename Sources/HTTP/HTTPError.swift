import Dataset
import Foundation

/// A transfer that did not produce a complete response. HTTP error statuses (404, 500…) are not `HTTPError`s;
/// they come back as `HTTPResponse`s.
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public enum TimeoutPhase: String, Sendable {
        /// No connection was established in `connectTimeout`.
        case connect
        /// The transfer did not finish in `totalTimeout`.
        case total
    }

    public enum Code: Sendable, Equatable {
        /// The request URL is not a valid http(s) URL.
        case invalidURL
        /// Host name did not resolve.
        case resolveFailed
        /// TCP/TLS connection could not be established (refused, unreachable).
        case connectFailed
        /// A time limit ran out.
        case timedOut(TimeoutPhase)
        /// Fewer than `limit` bytes/s arrived for `seconds`.
        case lowSpeed(limit: Int, seconds: Int)
        /// The body is (or was announced as) larger than `limit` bytes; `seen` is the announced length or the
        /// bytes received when the transfer was stopped.
        case bodyTooLarge(limit: Int, seen: Int)
        /// The connection closed before the announced body was complete.
        case truncatedBody
        /// The server closed the connection without sending anything.
        case emptyReply
        /// The connection broke while sending or receiving (reset by peer).
        case connectionLost
        /// More than `maxRedirects` redirects.
        case tooManyRedirects(limit: Int)
        /// The URL or a redirect pointed at a scheme other than http/https (file:, ftp:, …).
        case disallowedScheme(String)
        /// TLS certificate or handshake failure.
        case tls
        /// A body sink or header check stopped the transfer.
        case aborted(reason: String)
        /// The address connected to (directly or after a redirect) is loopback, private, link-local, multicast or
        /// unspecified and the engine's `AddressPolicy` refuses it; the refusal happens before connecting.
        case privateAddress(String)
        /// The task was cancelled or the engine shut down.
        case cancelled
        /// Any other libcurl failure.
        case transport(curlCode: Int, message: String)
    }

    public var code: Code
    /// The URL the request was for.
    public var url: URL
    /// libcurl's own message, when there was one.
    public var detail: String?

    public init(_ code: Code, url: URL, detail: String? = nil) {
        self.code = code
        self.url = url
        self.detail = detail
    }

    /// Failures that may go away on their own: worth another attempt with backoff.
    public var isTransient: Bool {
        switch code {
        case .connectFailed, .timedOut, .lowSpeed, .truncatedBody, .emptyReply, .connectionLost, .resolveFailed:
            return true
        case .invalidURL, .bodyTooLarge, .tooManyRedirects, .disallowedScheme, .tls, .aborted, .cancelled, .privateAddress:
            return false
        case .transport:
            return true
        }
    }

    public var description: String {
        let what: String
        switch code {
        case .invalidURL:
            what = "invalid URL (only absolute http/https URLs can be fetched)"
        case .resolveFailed:
            what = "could not resolve the host name; check the URL and the network/DNS"
        case .connectFailed:
            what = "could not connect (refused or unreachable); is the server up and the port right?"
        case .timedOut(.connect):
            what = "timed out connecting; the host did not answer within the connect timeout"
        case .timedOut(.total):
            what = "timed out; the transfer did not finish within the total timeout (raise it for large files)"
        case .lowSpeed(let limit, let seconds):
            what = "too slow: under \(limit) bytes/s for \(seconds) s; the server is stalling"
        case .bodyTooLarge(let limit, let seen):
            what = "body too large: \(seen) bytes exceeds the limit of \(limit) bytes (raise maxBodyBytes to allow it)"
        case .truncatedBody:
            what = "truncated body: the connection closed before the announced Content-Length arrived"
        case .emptyReply:
            what = "empty reply: the server closed the connection without answering"
        case .connectionLost:
            what = "connection lost (reset by the server) during the transfer"
        case .tooManyRedirects(let limit):
            what = "too many redirects (more than \(limit)); the server may be in a redirect loop"
        case .disallowedScheme(let scheme):
            what = "refused to follow a \(scheme.isEmpty ? "non-http" : "'\(scheme)'") URL: only http and https are allowed"
        case .tls:
            what = "TLS failure (certificate or handshake)"
        case .aborted(let reason):
            what = "aborted: \(reason)"
        case .privateAddress(let why):
            what = "refused: \(why)"
        case .cancelled:
            what = "cancelled"
        case .transport(let curlCode, let message):
            what = "transfer failed (curl \(curlCode): \(message))"
        }
        var text = "\(url.absoluteString): \(what)"
        if let detail, !detail.isEmpty {
            if case .transport = code {} else { text += " [\(detail)]" }
        }
        // The URL may carry a key (Flickr's api_key) or userinfo, the detail an echoed header.
        return SecretRedactor.redact(text)
    }
}
