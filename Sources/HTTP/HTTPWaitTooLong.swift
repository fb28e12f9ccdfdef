import Dataset
import Foundation

/// A server asked to wait longer than allowed (`Retry-After: 3600` against `collect.max_wait_seconds` 300): the
/// stage stops with this instead of stalling, and the work is left for the next run.
public struct HTTPWaitTooLong: Error, Sendable, CustomStringConvertible {
    /// `scheme://host:port`.
    public var endpoint: String
    public var url: URL
    /// The wait asked and the header it came from.
    public var asked: RetryAfter.Hint
    public var limit: Duration
    /// The setting that raises the limit.
    public var setting: String

    public init(endpoint: String, url: URL, asked: RetryAfter.Hint, limit: Duration, setting: String = "collect.max_wait_seconds") {
        self.endpoint = endpoint
        self.url = url
        self.asked = asked
        self.limit = limit
        self.setting = setting
    }

    public var description: String {
        SecretRedactor.redact("""
            \(endpoint) asked to wait \(ProgressReporter.formatDuration(asked.delay.seconds)) (\(asked.source)) for \(url.absoluteString), \
            more than \(setting) (\(ProgressReporter.formatDuration(limit.seconds))); stopped instead of stalling — run again later \
            or raise \(setting)
            """)
    }
}
