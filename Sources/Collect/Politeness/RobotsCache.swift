import Dataset
import Foundation

/// robots.txt per host (scheme + host + port), fetched once per run and shared by every download to that host.
/// RFC 9309: a 4xx answer (robots.txt absent) allows everything; a 5xx answer or an unreachable server disallows
/// everything; redirects are followed (up to 5).
public actor RobotsCache {
    /// The rules for a host and, when they come from a failure, what happened.
    public struct Entry: Sendable {
        public let robots: RobotsTxt
        public let note: String?
    }

    private let engine: HTTPEngine
    private let userAgent: String
    private var entries: [String: Task<Entry, Never>] = [:]

    public init(engine: HTTPEngine, userAgent: String) {
        self.engine = engine
        self.userAgent = userAgent
    }

    /// Whether `url` may be fetched; `nil` when it may, else a detail for the `robots_disallowed` failure.
    public func disallowed(_ url: URL) async -> String? {
        guard let host = url.host, let scheme = url.scheme?.lowercased() else { return nil }
        let key = HTTPRequest.defaultHostKey(for: url)
        let task: Task<Entry, Never>
        if let existing = entries[key] {
            task = existing
        } else {
            var components = URLComponents()
            components.scheme = scheme
            components.host = host
            components.port = url.port
            components.path = "/robots.txt"
            let robotsURL = components.url!
            let engine = self.engine
            let userAgent = self.userAgent
            task = Task { await Self.fetch(robotsURL, engine: engine, userAgent: userAgent) }
            entries[key] = task
        }
        let entry = await task.value
        var path = url.path.isEmpty ? "/" : (URLComponents(url: url, resolvingAgainstBaseURL: false)?.percentEncodedPath ?? url.path)
        if path.isEmpty { path = "/" }
        if let query = url.query { path += "?" + query }
        guard !entry.robots.allows(path) else { return nil }
        return "robots.txt of \(key) disallows \(url.absoluteString)" + (entry.note.map { " (\($0))" } ?? "")
    }

    static func fetch(_ url: URL, engine: HTTPEngine, userAgent: String) async -> Entry {
        let request = HTTPRequest(url: url, connectTimeout: .seconds(10), totalTimeout: .seconds(30),
                                  maxBodyBytes: 512 * 1024, maxRedirects: 5)
        let result = await engine.perform(request, retry: RetryPolicy(maxAttempts: 2, baseDelay: .milliseconds(500)))
        switch result.result {
        case .success(let response):
            switch response.status {
            case 200..<300:
                let text = String(decoding: response.body ?? Data(), as: UTF8.self)
                return Entry(robots: RobotsTxt(parsing: text, userAgent: userAgent), note: nil)
            case 400..<500:
                return Entry(robots: .allowAll, note: nil)
            default:
                return Entry(robots: .disallowAll, note: "robots.txt answered HTTP \(response.status), so everything is disallowed")
            }
        case .failure(let error):
            return Entry(robots: .disallowAll, note: "robots.txt unreachable (\(error.description)), so everything is disallowed")
        }
    }
}
