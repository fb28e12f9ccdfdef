import Dataset
import Foundation
import HTTP

/// How images are downloaded: limits, timeouts, retries and politeness. Its keys sit directly in the recipe's
/// `collect:` section (`CollectSettings` lifts them); the CLI then applies its options.
public struct DownloadSettings: Sendable {
    /// Downloads in flight over all hosts.
    public var concurrency = 16
    /// Downloads in flight per host.
    public var perHost = 4
    public var connectTimeout: Double = 10
    public var totalTimeout: Double = 60
    /// Abort a transfer slower than `lowSpeedBytes` per second for `lowSpeedSeconds`.
    public var lowSpeedBytes = 1024
    public var lowSpeedSeconds: Double = 20
    public var maxBytes = 50 * 1024 * 1024
    public var maxRedirects = 5
    public var maxAttempts = 4
    public var retryBaseSeconds: Double = 1
    public var retryMaxSeconds: Double = 60
    /// The longest `Retry-After` honoured; a longer one stops collect with a message (`collect.max_wait_seconds`).
    public var maxWaitSeconds: Double = 300
    /// What remote sources may connect to besides public addresses (`collect.allow_hosts`: host[:port] or CIDR).
    public var allowHosts: [String] = []
    /// Fetch and obey robots.txt per host.
    public var robots = true
    public var respectXRobotsTag = true
    /// The contact in the User-Agent (`dsbuild/0.1.0 (+contact)`).
    public var userAgentContact = "https://github.com/dsbuild/dsbuild"

    public init() {}

    /// `collect.concurrency`/`per_host` and `--concurrency`/`--per-host`.
    public static let concurrencyRule = ValueRule.atLeast(1)
    /// `collect.max_attempts` and `--max-attempts` (the first try included).
    public static let maxAttemptsRule = ValueRule.atLeast(1)
    /// `collect.timeout_seconds` and `--timeout`.
    public static let timeoutRule = ValueRule.greaterThan(0)
    /// `collect.allow_hosts` and `--allow-host`: entries of the form `AddressPolicy` reads (host[:port] or CIDR);
    /// a host name that does not resolve is refused when collect builds its engine.
    public static let allowHostsRule = ValueRule("host[:port] or CIDR entries") { value in
        let entries = value.listValue?.compactMap(\.stringValue) ?? value.stringValue.map { [$0] } ?? []
        return entries.lazy.compactMap(AddressPolicy.formProblem).first?.description
    }

    /// Every download key, relative to `collect`.
    public static let keys: [SettingKey<DownloadSettings>] = [
        .int("concurrency", \.concurrency, rule: concurrencyRule, help: "downloads in flight over all hosts"),
        .int("per_host", \.perHost, rule: concurrencyRule, help: "downloads in flight per host"),
        .number("timeout_seconds", \.totalTimeout, rule: timeoutRule, help: "one download's time limit"),
        .number("connect_timeout_seconds", \.connectTimeout, rule: .greaterThan(0), help: "time limit for connecting"),
        .int("low_speed_bytes", \.lowSpeedBytes, rule: .atLeast(0),
             help: "abort a transfer slower than this many bytes a second for low_speed_seconds (0: never)"),
        .number("low_speed_seconds", \.lowSpeedSeconds, rule: .atLeast(0), help: "how long a transfer may stay below low_speed_bytes"),
        .int("max_bytes", \.maxBytes, rule: .atLeast(1), help: "larger bodies are aborted and recorded too_large"),
        .int("max_redirects", \.maxRedirects, rule: .atLeast(0), help: "redirects followed per download"),
        .int("max_attempts", \.maxAttempts, rule: maxAttemptsRule, help: "tries per image and API request, the first included"),
        .number("retry_base_seconds", \.retryBaseSeconds, rule: .atLeast(0), help: "the first retry's backoff (doubling, with jitter)"),
        .number("retry_max_seconds", \.retryMaxSeconds, rule: .atLeast(0), help: "the longest backoff between tries"),
        .number("max_wait_seconds", \.maxWaitSeconds, rule: .greaterThan(0),
                help: "longest Retry-After honoured; a longer one stops collect with the work left pending"),
        .strings("allow_hosts", \.allowHosts, rule: allowHostsRule,
                 help: "loopback/private addresses remote sources may reach: host[:port] or CIDR"),
        .bool("robots", \.robots, help: "fetch and obey each host's robots.txt"),
        .bool("respect_x_robots_tag", \.respectXRobotsTag, help: "refuse images served with X-Robots-Tag noai/noimageai"),
        .string("user_agent_contact", \.userAgentContact, rule: .headerText, help: "the User-Agent's contact (unset: the top-level contact)"),
    ]

    public var userAgent: String { HTTPEngine.userAgent(contact: userAgentContact) }

    public var retryPolicy: RetryPolicy {
        RetryPolicy(maxAttempts: maxAttempts, baseDelay: .milliseconds(Int(retryBaseSeconds * 1000)),
                    maxDelay: .milliseconds(Int(retryMaxSeconds * 1000)),
                    maxWait: .milliseconds(Int(maxWaitSeconds * 1000)))
    }

    /// The request for one image with every limit applied.
    func request(for url: URL) -> HTTPRequest {
        HTTPRequest(url: url, headers: [("Accept", "image/*,*/*;q=0.5")],
                    connectTimeout: .milliseconds(Int(connectTimeout * 1000)),
                    totalTimeout: .milliseconds(Int(totalTimeout * 1000)),
                    lowSpeedLimit: lowSpeedBytes > 0 ? lowSpeedBytes : nil,
                    lowSpeedTime: .milliseconds(Int(lowSpeedSeconds * 1000)),
                    maxBodyBytes: maxBytes, maxRedirects: maxRedirects)
    }
}
