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
        let request = HTTPRequest(url: url, method: method, headers: headers.map { (name: $0.0, value: $0.1) }, body: body,
                                  totalTimeout: .seconds(timeout), maxBodyBytes: maxBodyBytes, maxRedirects: 0,
                                  acceptCompressed: true)
        do {
            let response = try await engine.perform(request)
            var fields: [String: String] = [:]
            for field in response.headers where fields[field.name.lowercased()] == nil {
                fields[field.name.lowercased()] = field.value
            }
            return ChatHTTPResponse(status: response.status, headers: fields, body: response.body ?? Data())
        } catch {
            switch error.code {
            case .cancelled: throw ChatTransportError(.cancelled, "cancelled")
            case .timedOut: throw ChatTransportError(.timedOut, error.description)
            case .bodyTooLarge: throw ChatTransportError(.tooLarge, error.description)
            default: throw ChatTransportError(.connection, error.description)
            }
        }
    }
}
