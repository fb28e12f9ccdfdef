import Foundation

/// One candidate whose image is still to be fetched.
public struct PendingDownload: Sendable, Equatable {
    public let candidateID: Int64
    public let url: String
    public let source: String

    public init(candidateID: Int64, url: String, source: String) {
        self.candidateID = candidateID
        self.url = url
        self.source = source
    }
}

/// A body written to a temporary file and hashed while it streamed.
public struct FetchedFile: Sendable {
    public let file: URL
    public let sha256: String
    public let bytes: Int
    public let finalURL: String
    public let httpStatus: Int?
}

/// One try at fetching, as recorded in `download_attempts`.
public struct AttemptRecord: Sendable, Equatable {
    public let number: Int
    public let url: String
    public let httpStatus: Int?
    public let error: String?
    /// The wait chosen before the next try (backoff or Retry-After), if there was one.
    public let waitSeconds: Double?
    public let startedAt: Double
    public let duration: Double
}

/// The result of fetching one image and every attempt it took.
public struct FetchResult: Sendable {
    public let result: Result<FetchedFile, DownloadFailure>
    public let attempts: [AttemptRecord]

    public init(_ result: Result<FetchedFile, DownloadFailure>, attempts: [AttemptRecord] = []) {
        self.result = result
        self.attempts = attempts
    }

    static func failed(_ failure: DownloadFailure) -> FetchResult { FetchResult(.failure(failure)) }
}

/// Fetches one image into a temporary file under `directory`. Failures are results; only cancellation throws.
public protocol ImageFetching: Sendable {
    func fetch(_ item: PendingDownload, into directory: URL) async throws -> FetchResult
}
