import Foundation
import GRDB

/// A row of `downloads`: the latest outcome of fetching one candidate (`ok` with the stored image, or `failed`
/// with the reason and whether a rerun should try again).
public struct DownloadRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "downloads"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var candidateId: Int64
    /// `ok` or `failed`.
    public var status: String
    public var reason: String?
    public var detail: String?
    public var imageSha256: String?
    public var httpStatus: Int?
    /// Attempts over every run.
    public var attempts: Int
    public var finalUrl: String?
    public var retryable: Bool
    public var finishedAt: Double

    public init(candidateID: Int64, status: String, reason: String? = nil, detail: String? = nil, imageSHA256: String? = nil,
                httpStatus: Int? = nil, attempts: Int, finalURL: String? = nil, retryable: Bool = false,
                finishedAt: Double = Date().timeIntervalSince1970) {
        self.candidateId = candidateID
        self.status = status
        self.reason = reason
        self.detail = detail
        self.imageSha256 = imageSHA256
        self.httpStatus = httpStatus
        self.attempts = attempts
        self.finalUrl = finalURL
        self.retryable = retryable
        self.finishedAt = finishedAt
    }

    /// Stores the row in place of the candidate's earlier outcome.
    public func replace(_ db: Database) throws {
        try insert(db, onConflict: .replace)
    }
}

/// A row of `download_attempts`: one HTTP attempt at a candidate, in the run that made it.
public struct DownloadAttemptRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "download_attempts"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    public var candidateId: Int64
    public var runId: Int64?
    public var attempt: Int
    public var url: String
    public var httpStatus: Int?
    public var error: String?
    public var waitSeconds: Double?
    public var startedAt: Double
    public var duration: Double

    public init(candidateID: Int64, run: StageRun?, attempt: Int, url: String, httpStatus: Int?, error: String?,
                waitSeconds: Double?, startedAt: Double, duration: Double) {
        self.candidateId = candidateID
        self.runId = run?.id
        self.attempt = attempt
        self.url = url
        self.httpStatus = httpStatus
        self.error = error
        self.waitSeconds = waitSeconds
        self.startedAt = startedAt
        self.duration = duration
    }
}
