import Dataset
import Foundation
import HTTP

/// A `ChatTransport` over the shared libcurl `HTTPEngine`: one attempt per call (the client owns retries, so the
/// engine's retrying runner is not used), with the client's timeout as the total timeout.
public final class HTTPChatTransport: ChatTransport {
    private let engine: HTTPEngine
    /// Replies larger than this are refused (a chat completion is kilobytes).
    public let maxBodyBytes: Int
    /// Resolver overrides (`host:port:address`, curl's `CURLOPT_RESOLVE`): tests only, to point a public name at a
    /// loopback listener and count the connections a command makes there (`DSBUILD_TEST_RESOLVE`).
    public let resolve: [String]

    /// `maxConnections` should be at least the client's concurrency (the engine's default of 6 per host is meant
    /// for polite crawling, not for an API endpoint). With `direct`, requests never go through a proxy the
    /// environment names (`http_proxy`…): a loopback endpoint — the llama.cpp server dsbuild started — is this
    /// machine, and a proxy would see (and could answer) every prompt.
    public init(maxConnections: Int = 64, maxBodyBytes: Int = 32 << 20, resolve: [String] = [], direct: Bool = false) {
        self.resolve = resolve
        engine = HTTPEngine(configuration: .init(maxTotalConnections: maxConnections, maxConnectionsPerHost: maxConnections,
                                                 proxy: direct ? .direct : .environment))
        self.maxBodyBytes = maxBodyBytes
    }

    public func post(url: URL, headers: [(String, String)], body: Data, timeout: TimeInterval) async throws(ChatTransportError) -> ChatHTTPResponse {
        try await Self.exchange(engine, method: "POST", url: url, headers: headers, body: body, timeout: timeout, maxBodyBytes: maxBodyBytes,
                                resolve: resolve)
    }

    /// One request over `engine` with the endpoint's rules (no redirect, the total timeout, a body limit), its reply
    /// reduced to status, lower-cased headers and body, and its failure to a `ChatTransportError`. Shared by the
    /// chat transport and the Batch API's file and batch requests (`BatchHTTP`).
    static func exchange(_ engine: HTTPEngine, method: String, url: URL, headers: [(String, String)], body: Data?,
                         timeout: TimeInterval, maxBodyBytes: Int, resolve: [String] = []) async throws(ChatTransportError) -> ChatHTTPResponse {
        var request = HTTPRequest(url: url, method: method, headers: headers.map { (name: $0.0, value: $0.1) }, body: body,
                                  totalTimeout: .seconds(timeout), maxBodyBytes: maxBodyBytes, maxRedirects: 0,
                                  acceptCompressed: true)
        request.resolve = resolve
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
