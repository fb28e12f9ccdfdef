import Foundation

/// A request as the loopback server parsed it.
public struct LoopbackRequest: Sendable {
    public var method: String
    /// The request target as sent (`/path?query`).
    public var target: String
    /// `target` without the query.
    public var path: String
    public var query: String?
    public var headers: [(name: String, value: String)]
    public var body: Data
    /// 1 for the first request on its connection, 2 for the next (keep-alive), …
    public var indexOnConnection: Int
    /// Counts connections since the server started (1-based).
    public var connectionNumber: Int

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// What the loopback server answers, including scripted failures that real servers produce.
public struct LoopbackResponse: Sendable {
    /// How the body is framed.
    public enum Framing: Sendable {
        /// `Content-Length` = body size.
        case contentLength
        /// `Content-Length: n` whatever the body size; when n exceeds it the server closes after the body
        /// (a truncated response); when the body is longer, the connection stays open with the extra bytes in it
        /// (a lying server: the next reply read on that connection starts with them).
        case declaredLength(Int)
        /// `Transfer-Encoding: chunked`, chunks of at most `chunkSize` bytes.
        case chunked(chunkSize: Int)
        /// No length: the body ends when the server closes the connection.
        case untilClose
    }

    /// Failures injected at a point of the exchange.
    public enum Fault: Sendable {
        /// Reset (SO_LINGER 0 + close) instead of answering.
        case resetBeforeResponse
        /// Send headers and `afterBytes` of body, then reset.
        case resetMidBody(afterBytes: Int)
        /// Close cleanly without sending anything.
        case closeWithoutResponse
    }

    public var status: Int
    public var reason: String?
    public var headers: [(name: String, value: String)]
    public var body: Data
    public var framing: Framing
    public var fault: Fault?
    /// Wait before sending the status line.
    public var delayBeforeHeaders: Duration?
    /// Send the body `bytes` at a time with `interval` between pieces.
    public var pacing: (bytes: Int, interval: Duration)?
    /// Close the connection after this response (`Connection: close`).
    public var closeAfter: Bool

    public init(
        status: Int = 200,
        reason: String? = nil,
        headers: [(name: String, value: String)] = [],
        body: Data = Data(),
        framing: Framing = .contentLength,
        fault: Fault? = nil,
        delayBeforeHeaders: Duration? = nil,
        pacing: (bytes: Int, interval: Duration)? = nil,
        closeAfter: Bool = false
    ) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.framing = framing
        self.fault = fault
        self.delayBeforeHeaders = delayBeforeHeaders
        self.pacing = pacing
        self.closeAfter = closeAfter
    }

    public static func ok(_ body: Data, contentType: String = "application/octet-stream") -> LoopbackResponse {
        LoopbackResponse(status: 200, headers: [("Content-Type", contentType)], body: body)
    }

    public static func text(_ text: String, status: Int = 200) -> LoopbackResponse {
        LoopbackResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Data(text.utf8))
    }

    public static func status(_ status: Int, headers: [(name: String, value: String)] = [], body: String = "") -> LoopbackResponse {
        LoopbackResponse(status: status, headers: headers, body: Data(body.utf8))
    }

    /// A redirect to anything, `file:///etc/passwd` included.
    public static func redirect(to location: String, status: Int = 302) -> LoopbackResponse {
        LoopbackResponse(status: status, headers: [("Location", location)], body: Data("moved".utf8))
    }

    public static func fault(_ fault: Fault) -> LoopbackResponse {
        LoopbackResponse(status: 200, body: Data(repeating: 0x61, count: 4096), fault: fault)
    }
}

/// Maps paths and path prefixes to handlers, first match wins; everything else is 404.
public struct LoopbackRouter: Sendable {
    private var routes: [(matches: @Sendable (String) -> Bool, handler: @Sendable (LoopbackRequest) -> LoopbackResponse)] = []

    public init() {}

    /// Exact path (query ignored).
    public func on(_ path: String, _ handler: @escaping @Sendable (LoopbackRequest) -> LoopbackResponse) -> LoopbackRouter {
        var copy = self
        copy.routes.append(({ $0 == path }, handler))
        return copy
    }

    /// Any path starting with `prefix`.
    public func onPrefix(_ prefix: String, _ handler: @escaping @Sendable (LoopbackRequest) -> LoopbackResponse) -> LoopbackRouter {
        var copy = self
        copy.routes.append(({ $0.hasPrefix(prefix) }, handler))
        return copy
    }

    public func respond(to request: LoopbackRequest) -> LoopbackResponse {
        for route in routes where route.matches(request.path) { return route.handler(request) }
        return .text("no route for \(request.path)", status: 404)
    }

    public var handler: @Sendable (LoopbackRequest) -> LoopbackResponse {
        let router = self
        return { router.respond(to: $0) }
    }
}
