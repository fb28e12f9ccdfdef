import Dataset
import Foundation
import HTTP

/// Source API requests through the HTTP engine: the polite User-Agent, retries with backoff honouring
/// Retry-After, and a per-host request rate (the sources' terms: iNaturalist ≤ 60/min…).
public struct EngineJSONFetcher: JSONFetching {
    public let engine: HTTPEngine
    public let retry: RetryPolicy
    /// Rate limiters by host key (`https://api.inaturalist.org:443`).
    let limiters: [String: RateLimiter]

    /// `rates` maps a base URL to requests per minute.
    public init(engine: HTTPEngine, retry: RetryPolicy, rates: [String: Double]) {
        self.engine = engine
        self.retry = retry
        var limiters: [String: RateLimiter] = [:]
        for (base, perMinute) in rates where perMinute > 0 {
            guard let url = URL(string: base) else { continue }
            limiters[HTTPRequest.defaultHostKey(for: url)] = RateLimiter(requestsPerMinute: perMinute)
        }
        self.limiters = limiters
    }

    public func get(_ url: URL) async throws -> FetchedResponse {
        let request = HTTPRequest(url: url, headers: [("Accept", "application/json")], totalTimeout: .seconds(60),
                                  maxBodyBytes: 32 * 1024 * 1024)
        if let limiter = limiters[request.hostKey] { try await limiter.acquire() }
        let result = await engine.perform(request, retry: retry)
        if let refused = result.waitRefused { throw refused }
        switch result.result {
        case .success(let response):
            var headers: [String: String] = [:]
            for field in response.headers where headers[field.name.lowercased()] == nil {
                headers[field.name.lowercased()] = field.value
            }
            return FetchedResponse(status: response.status, headers: headers, body: response.body ?? Data())
        case .failure(let error):
            if error.code == .cancelled { throw CancellationError() }
            throw CollectError(.sourceFailed, item: url.host ?? url.absoluteString,
                               detail: "\(error.description) after \(result.attempts.count) tries")
        }
    }
}
