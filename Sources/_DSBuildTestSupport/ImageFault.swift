import Foundation

/// A failure a hostile or broken image server answers with. Transient ones answer the first
/// `failingAttempts` requests for a file with the fault and then serve it; permanent ones answer every request
/// with it, and a run must record `permanentReason`.
public enum ImageFault: String, CaseIterable, Sendable {
    /// Served as is.
    case none
    /// 429 with `Retry-After: 1`.
    case rateLimited
    /// 500.
    case serverError
    /// 503, twice.
    case unavailable
    /// RST instead of an answer.
    case resetBeforeResponse
    /// Headers and part of the body, then RST.
    case resetMidBody
    /// `Content-Length` says more than is sent, then the connection closes.
    case truncated
    /// The whole file, 32 KiB every 40 ms (slow, but within every limit).
    case slowBody
    /// An HTML page with `Content-Type: image/jpeg`.
    case htmlAsImage
    /// 404.
    case notFound
    /// A redirect to the same path on another loopback port, which the run does not allow.
    case redirectToOtherPort
    /// A body one byte over `collect.max_bytes`.
    case oversized

    /// Requests answered with the fault before the file is served; nil for a permanent fault.
    public var failingAttempts: Int? {
        switch self {
        case .none, .slowBody: 0
        case .rateLimited, .serverError, .resetBeforeResponse, .resetMidBody, .truncated: 1
        case .unavailable: 2
        case .htmlAsImage, .notFound, .redirectToOtherPort, .oversized: nil
        }
    }

    /// The `downloads.reason` a permanent fault must be recorded with.
    public var permanentReason: String? {
        switch self {
        case .htmlAsImage: "not_an_image"
        case .notFound: "http_404"
        case .redirectToOtherPort: "private_address"
        case .oversized: "too_large"
        default: nil
        }
    }

    /// What the server answers to request number `attempt` for a file (`data`, `contentType`) at `path`.
    public func response(attempt: Int, path: String, data: Data, contentType: String,
                         otherPort: Int, maxBytes: Int) -> LoopbackResponse {
        if let failing = failingAttempts, attempt > failing {
            var served = LoopbackResponse.ok(data, contentType: contentType)
            if self == .slowBody { served.pacing = (bytes: 32 * 1024, interval: .milliseconds(40)) }
            return served
        }
        switch self {
        case .none, .slowBody:
            return .ok(data, contentType: contentType)
        case .rateLimited:
            return .status(429, headers: [("Retry-After", "1")], body: "rate limited")
        case .serverError:
            return .status(500, body: "internal error")
        case .unavailable:
            return .status(503, body: "unavailable")
        case .resetBeforeResponse:
            return .fault(.resetBeforeResponse)
        case .resetMidBody:
            return LoopbackResponse(status: 200, headers: [("Content-Type", contentType)], body: data,
                                    fault: .resetMidBody(afterBytes: min(4096, data.count / 2)))
        case .truncated:
            return LoopbackResponse(status: 200, headers: [("Content-Type", contentType)], body: data.prefix(data.count / 2),
                                    framing: .declaredLength(data.count))
        case .htmlAsImage:
            return .ok(Data("<!DOCTYPE html><html><head><title>Sign in</title></head><body>Please log in</body></html>".utf8),
                       contentType: "image/jpeg")
        case .notFound:
            return .status(404, body: "no such file")
        case .redirectToOtherPort:
            return .redirect(to: "http://127.0.0.1:\(otherPort)\(path)")
        case .oversized:
            var body = Data(capacity: maxBytes + 1)
            while body.count <= maxBytes { body.append(data.prefix(maxBytes + 1 - body.count)) }
            return .ok(body, contentType: contentType)
        }
    }
}
