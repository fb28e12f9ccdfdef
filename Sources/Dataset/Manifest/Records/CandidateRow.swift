import Foundation
import GRDB

/// A row of `candidates`: one search result for one keyword from one source, before download. Unique per
/// keyword, source and source id, so a search repeated on resume adds nothing.
public struct CandidateRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "candidates"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    public var keywordId: Int64
    public var source: String
    public var sourceId: String
    public var imageUrl: String
    public var pageUrl: String?
    public var license: String?
    public var licenseUrl: String?
    public var author: String?
    public var title: String?
    public var description: String?
    public var declaredWidth: Int?
    public var declaredHeight: Int?
    public var declaredBytes: Int?
    public var declaredMime: String?
    public var declaredSha1: String?
    /// Source metadata with no column (`pwatermark`…), a JSON object text.
    public var extra: String
    /// The result's position in its source's answer (0 first).
    public var rank: Int
    public var createdAt: Double

    public init(keywordID: Int64, source: String, sourceID: String, imageURL: String, pageURL: String?, license: String?,
                licenseURL: String?, author: String?, title: String?, description: String?, declaredWidth: Int?,
                declaredHeight: Int?, declaredBytes: Int?, declaredMime: String?, declaredSHA1: String?,
                extra: [String: String], rank: Int, createdAt: Double = Date().timeIntervalSince1970) {
        self.keywordId = keywordID
        self.source = source
        self.sourceId = sourceID
        self.imageUrl = imageURL
        self.pageUrl = pageURL
        self.license = license
        self.licenseUrl = licenseURL
        self.author = author
        self.title = title
        self.description = description
        self.declaredWidth = declaredWidth
        self.declaredHeight = declaredHeight
        self.declaredBytes = declaredBytes
        self.declaredMime = declaredMime
        self.declaredSha1 = declaredSHA1
        self.extra = JSONText.encode(extra)
        self.rank = rank
        self.createdAt = createdAt
    }

    /// Inserts the row unless the keyword already has this result of this source.
    public func insertIfNew(_ db: Database) throws {
        try insert(db, onConflict: .ignore)
    }
}

/// A row of `source_searches`: whether one keyword has been searched on one source, and what came of it.
public struct SourceSearchRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "source_searches"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var keywordId: Int64
    public var source: String
    /// `ok` or `failed`.
    public var status: String
    public var found: Int
    public var detail: String?
    public var finishedAt: Double

    public init(keywordID: Int64, source: String, status: String, found: Int, detail: String?, finishedAt: Double = Date().timeIntervalSince1970) {
        self.keywordId = keywordID
        self.source = source
        self.status = status
        self.found = found
        self.detail = detail
        self.finishedAt = finishedAt
    }
}
