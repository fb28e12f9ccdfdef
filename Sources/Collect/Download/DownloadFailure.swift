import Dataset
import Foundation
import HTTP

/// Why a download failed, as recorded in `downloads.reason` (stable snake_case keys the summary and `status`
/// count) with a one-line `detail` naming the URL, and whether a later run should try it again.
public struct DownloadFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public let reason: String
    public let detail: String
    public let httpStatus: Int?
    /// Transient failures (408, 429, 5xx, connection errors, timeouts) stay pending for the next run.
    public let retryable: Bool

    public init(reason: String, detail: String, httpStatus: Int? = nil, retryable: Bool = false) {
        self.reason = reason
        self.detail = SecretRedactor.redact(detail)
        self.httpStatus = httpStatus
        self.retryable = retryable
    }

    public var description: String { "\(reason): \(detail)" }

    /// A final non-2xx status: `http_404`, `http_429`…
    public static func status(_ status: Int, url: String, attempts: Int, retryable: Bool) -> DownloadFailure {
        let tries = attempts > 1 ? " after \(attempts) tries" : ""
        return DownloadFailure(reason: "http_\(status)", detail: "HTTP \(status)\(tries) for \(url)", httpStatus: status,
                               retryable: retryable)
    }

    /// The disk is full, the quota used up or an I/O error: transient, the next run fetches the item again.
    public static func storage(_ error: StorageError, url: String) -> DownloadFailure {
        DownloadFailure(reason: error.reason, detail: "\(error) (downloading \(url))", retryable: true)
    }

    /// Maps a transfer error of the HTTP engine to its reason key.
    public static func transfer(_ error: HTTPError, attempts: Int) -> DownloadFailure {
        let tries = attempts > 1 ? " (after \(attempts) tries)" : ""
        let detail = error.description + tries
        switch error.code {
        case .invalidURL: return DownloadFailure(reason: "invalid_url", detail: detail)
        case .resolveFailed: return DownloadFailure(reason: "dns_failed", detail: detail, retryable: true)
        case .connectFailed: return DownloadFailure(reason: "connection_failed", detail: detail, retryable: true)
        case .timedOut: return DownloadFailure(reason: "timeout", detail: detail, retryable: true)
        case .lowSpeed: return DownloadFailure(reason: "too_slow", detail: detail, retryable: true)
        case .bodyTooLarge: return DownloadFailure(reason: "too_large", detail: detail)
        case .truncatedBody: return DownloadFailure(reason: "truncated", detail: detail, retryable: true)
        case .emptyReply: return DownloadFailure(reason: "empty_reply", detail: detail, retryable: true)
        case .connectionLost: return DownloadFailure(reason: "connection_reset", detail: detail, retryable: true)
        case .tooManyRedirects: return DownloadFailure(reason: "too_many_redirects", detail: detail)
        case .disallowedScheme: return DownloadFailure(reason: "disallowed_scheme", detail: detail)
        case .tls: return DownloadFailure(reason: "tls_failed", detail: detail)
        case .aborted(let reason):
            if let storage = StorageError.from(abortReason: reason) {
                return .storage(storage, url: error.url.absoluteString)
            }
            if let directive = XRobotsAbort.directive(in: reason) {
                return DownloadFailure(reason: "x_robots_tag", detail: "X-Robots-Tag: \(directive) on \(error.url.absoluteString)")
            }
            return DownloadFailure(reason: "aborted", detail: detail)
        case .privateAddress: return DownloadFailure(reason: "private_address", detail: detail)
        case .cancelled: return DownloadFailure(reason: "cancelled", detail: detail, retryable: true)
        case .transport: return DownloadFailure(reason: "transport_error", detail: detail, retryable: true)
        }
    }
}

/// The abort reason a body sink gives when an `X-Robots-Tag` forbids the image, so the failure can be told apart
/// from other aborts.
enum XRobotsAbort {
    static let prefix = "x-robots-tag "

    static func reason(_ directive: String) -> String { prefix + directive }

    static func directive(in reason: String) -> String? {
        reason.hasPrefix(prefix) ? String(reason.dropFirst(prefix.count)) : nil
    }
}
