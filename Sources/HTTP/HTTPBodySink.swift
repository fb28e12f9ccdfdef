/// What a sink tells the engine after headers or a chunk of body.
public enum HTTPSinkDecision: Sendable, Equatable {
    case proceed
    /// Stop the transfer now; `perform` fails with `HTTPError.Code.aborted(reason)`.
    case abort(String)
}

/// Receives a response body in chunks as it arrives, so a caller can hash and write it without holding it in
/// memory. Both methods are called on the engine's curl thread, one transfer at a time, and must not block:
/// do cheap work (hash, write to a file) and return. The engine does not collect the body when a sink is given.
public protocol HTTPBodySink: AnyObject, Sendable {
    /// The final response's status and headers (after redirects, before any body byte). Abort here to skip the
    /// body, e.g. on `X-Robots-Tag: noai` or a wrong `Content-Type`.
    func receiveHead(_ head: HTTPResponseHead) -> HTTPSinkDecision
    /// The next chunk of (decoded) body. The buffer is only valid during the call.
    func receive(_ chunk: UnsafeRawBufferPointer) -> HTTPSinkDecision
}

extension HTTPBodySink {
    public func receiveHead(_ head: HTTPResponseHead) -> HTTPSinkDecision { .proceed }
}
