import Dataset
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A `ChatTransport` over Foundation's URLSession (libcurl underneath on Linux).
public final class URLSessionChatTransport: ChatTransport {
    private let session: URLSession

    public init() {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 64
        configuration.urlCache = nil
        session = URLSession(configuration: configuration)
    }

    public func post(url: URL, headers: [(String, String)], body: Data, timeout: TimeInterval) async throws(ChatTransportError) -> ChatHTTPResponse {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = body
        request.timeoutInterval = timeout
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        do {
            let (data, response) = try await session.data(for: request)
            guard let http = response as? HTTPURLResponse else {
                throw ChatTransportError(.connection, "not an HTTP response from \(url.host ?? "?")")
            }
            var fields: [String: String] = [:]
            for (key, value) in http.allHeaderFields {
                if let key = key as? String, let value = value as? String { fields[key] = value }
            }
            return ChatHTTPResponse(status: http.statusCode, headers: fields, body: data)
        } catch let error as ChatTransportError {
            throw error
        } catch is CancellationError {
            throw ChatTransportError(.cancelled, "cancelled")
        } catch let error as URLError {
            switch error.code {
            case .timedOut: throw ChatTransportError(.timedOut, "no answer from \(url.host ?? "?") within \(Int(timeout)) s")
            case .cancelled: throw ChatTransportError(.cancelled, "cancelled")
            default: throw ChatTransportError(.connection, "\(url.host ?? "?"): \(error.localizedDescription)")
            }
        } catch {
            throw ChatTransportError(.connection, "\(url.host ?? "?"): \(error)")
        }
    }
}
