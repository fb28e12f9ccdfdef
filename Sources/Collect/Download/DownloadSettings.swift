import Dataset
import Foundation

/// How images are downloaded: limits, timeouts, retries and politeness. Built by the CLI from defaults ← recipe
/// (`collect.*`) ← options.
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
