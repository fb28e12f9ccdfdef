import Dataset
import Foundation
import HTTP

/// One HTTP exchange with the files and batches endpoints (any method), as the Batch API client needs it. The
/// client owns retries; a transport sends once.
public protocol BatchHTTP: Sendable {
    func send(method: String, url: URL, headers: [(String, String)], body: Data?,
              timeout: TimeInterval) async throws(ChatTransportError) -> ChatHTTPResponse
}

/// `BatchHTTP` over the shared libcurl `HTTPEngine`, no redirects followed.
public final class HTTPBatchTransport: BatchHTTP {
    private let engine = HTTPEngine(configuration: .init(maxTotalConnections: 4, maxConnectionsPerHost: 4))
    /// Largest body accepted (an output file of 50,000 completions is hundreds of MB at most).
    public let maxBodyBytes: Int

    public init(maxBodyBytes: Int = 4 << 30) {
        self.maxBodyBytes = maxBodyBytes
    }

    public func send(method: String, url: URL, headers: [(String, String)], body: Data?,
                     timeout: TimeInterval) async throws(ChatTransportError) -> ChatHTTPResponse {
        try await HTTPChatTransport.exchange(engine, method: method, url: url, headers: headers, body: body, timeout: timeout,
                                             maxBodyBytes: maxBodyBytes)
    }
}
