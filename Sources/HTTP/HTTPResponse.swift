import Foundation

/// The status line and headers of the final response (after redirects), as a body sink sees them before
/// the body arrives.
public struct HTTPResponseHead: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    /// "1.0", "1.1", "2" or "3".
    public var httpVersion: String
    /// The URL this response came from (the last redirect target).
    public var url: URL

    /// `Content-Length` when the server sent one (compressed size when the body is encoded).
    public var contentLength: Int? { headers["Content-Length"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
}

/// A finished exchange. 4xx and 5xx are responses, not errors: the caller decides what a status means.
public struct HTTPResponse: Sendable {
    public var status: Int
    /// Headers of the final response, after redirects.
    public var headers: HTTPHeaders
    /// The body when the engine collected it; nil when a sink received it.
    public var body: Data?
    /// The URL the final response came from.
    public var effectiveURL: URL
    public var redirectCount: Int
    /// "1.0", "1.1", "2" or "3".
    public var httpVersion: String
    /// Body bytes received (after decoding).
    public var bytesDownloaded: Int
    public var totalTime: Duration

    public var head: HTTPResponseHead {
        HTTPResponseHead(status: status, headers: headers, httpVersion: httpVersion, url: effectiveURL)
    }

    /// 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }
}
