import Dataset
import Foundation
import HTTP

/// robots.txt per host (scheme + host + port), fetched once per run and shared by every download to that host.
///
/// RFC 9309 §2.3.1: a 4xx answer (robots.txt absent) allows everything; a 5xx answer or an unreachable server
/// means "disallow everything *for now*" — a temporary state, not a decision about the images. Such an entry is
/// reported as `.unavailable` (the download is retryable and tried again on the next run) and is kept only for
/// `failureLifetime` within a run, after which the next download to the host asks again. Redirects are followed
/// (up to 5).
public actor RobotsCache {
    /// The rules for a host and, when they come from a failure, what happened.
    public struct Entry: Sendable {
        public let robots: RobotsTxt
        public let note: String?
        /// The rules are a temporary full disallow (5xx, unreachable), not the host's answer.
        public let transient: Bool

        public init(robots: RobotsTxt, note: String?, transient: Bool = false) {
            self.robots = robots
            self.note = note
            self.transient = transient
        }
    }

    /// What robots.txt says about one URL.
    public enum Verdict: Sendable, Equatable {
        case allowed
        /// The host's robots.txt disallows the URL: a decision, not retried.
        case disallowed(String)
        /// robots.txt could not be read (5xx, unreachable): temporarily disallowed, retried on the next run.
        case unavailable(String)
    }

    private struct Cached {
        let task: Task<Entry, Never>
        let fetched: ContinuousClock.Instant
    }

    private let engine: HTTPEngine
    private let userAgent: String
    /// How long a failed robots.txt fetch is believed within a run before it is asked again.
    public let failureLifetime: Duration
    private var entries: [String: Cached] = [:]
    private let clock = ContinuousClock()

    public init(engine: HTTPEngine, userAgent: String, failureLifetime: Duration = .seconds(60)) {
        self.engine = engine
        self.userAgent = userAgent
        self.failureLifetime = failureLifetime
    }

    /// Whether `url` may be fetched; `nil` when it may, else a detail (either kind of refusal).
    public func disallowed(_ url: URL) async -> String? {
        switch await verdict(for: url) {
        case .allowed: return nil
        case .disallowed(let detail), .unavailable(let detail): return detail
        }
    }

    /// What robots.txt says about `url`.
    public func verdict(for url: URL) async -> Verdict {
        guard let host = url.host, let scheme = url.scheme?.lowercased() else { return .allowed }
        let key = HTTPRequest.defaultHostKey(for: url)
        let task: Task<Entry, Never>
        if let existing = entries[key], await !expired(existing) {
            task = existing.task
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
            entries[key] = Cached(task: task, fetched: clock.now)
        }
        let entry = await task.value
        var path = url.path.isEmpty ? "/" : (URLComponents(url: url, resolvingAgainstBaseURL: false)?.percentEncodedPath ?? url.path)
        if path.isEmpty { path = "/" }
        if let query = url.query { path += "?" + query }
        guard !entry.robots.allows(path) else { return .allowed }
        let detail = "robots.txt of \(key) disallows \(url.absoluteString)" + (entry.note.map { " (\($0))" } ?? "")
        return entry.transient ? .unavailable(detail) : .disallowed(detail)
    }

    /// A transient entry older than `failureLifetime` is fetched again; the host's own answer lasts the run.
    private func expired(_ cached: Cached) async -> Bool {
        guard clock.now - cached.fetched > failureLifetime else { return false }
        return await cached.task.value.transient
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
                return Entry(robots: .disallowAll,
                             note: "robots.txt answered HTTP \(response.status), so everything is disallowed for now; retried on the next run",
                             transient: true)
            }
        case .failure(let error):
            if case .privateAddress = error.code {
                // The host itself is refused; its downloads fail the same way, as `private_address`.
                return Entry(robots: .allowAll, note: nil)
            }
            return Entry(robots: .disallowAll,
                         note: "robots.txt unreachable (\(error.description)), so everything is disallowed for now; retried on the next run",
                         transient: true)
        }
    }
}
