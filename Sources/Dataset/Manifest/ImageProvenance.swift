import GRDB

/// Where a stored image came from: the candidate of a successful download (source, licence, author, page), as
/// outputs may carry it: its URLs without userinfo and with registered secrets masked (`SecretRedactor.publicURL`).
public struct ImageOrigin: Sendable, Equatable {
    public var keywordID: Int64
    public var source: String?
    public var license: String?
    /// The licence's deed as the source gave it (nil when it gave none).
    public var licenseURL: String?
    public var author: String?
    public var pageURL: String?
    /// The URL the image was downloaded from (nil for a local file).
    public var imageURL: String?
    /// The licence as the source spelled it, where collect kept it (`extra.license_raw`): what `publish` reads again
    /// with today's `License` rules (the stored id is what the normaliser of the collect made of it).
    public var rawLicense: String?

    public init(keywordID: Int64, source: String?, license: String?, licenseURL: String?, author: String?, pageURL: String?,
                imageURL: String? = nil, rawLicense: String? = nil) {
        self.keywordID = keywordID
        self.source = source
        self.license = license
        self.licenseURL = licenseURL
        self.author = author
        self.pageURL = pageURL
        self.imageURL = imageURL
        self.rawLicense = rawLicense
    }
}

/// The one query for an image's provenance. An image reached through several candidates (the same photo under two
/// keywords or from two sources) has one origin per successful download; a pair takes its own keyword's first
/// (by source, rank and id), else the image's first. An image no download brought (an imported question's) has none.
public struct ImageProvenance: Sendable {
    private let origins: [String: [ImageOrigin]]

    private static let query = """
        SELECT dl.image_sha256 AS sha, c.keyword_id AS kid, c.source, c.license, c.license_url, c.author, c.page_url,
               c.image_url,
               CASE WHEN json_valid(c.extra) AND json_type(c.extra, '$.license_raw') = 'text' THEN json_extract(c.extra, '$.license_raw') END AS raw
          FROM downloads dl JOIN candidates c ON c.id = dl.candidate_id
         WHERE dl.status = 'ok' AND dl.image_sha256 IS NOT NULL
        """
    private static let order = " ORDER BY c.keyword_id, c.source, c.rank, c.source_id"

    /// Loads every successful download's candidate.
    public static func load(in db: Database) throws -> ImageProvenance {
        try load(db, sql: query + order, arguments: [])
    }

    /// Loads the candidates of the images kept under some keywords (under any keyword: an image's first origin
    /// may be another keyword's), so that `origin(of:keywordID:)` answers for those images as `load(in:)` would.
    public static func load(in db: Database, imagesKeptUnder keywordIDs: [Int64]) throws -> ImageProvenance {
        guard !keywordIDs.isEmpty else { return ImageProvenance(origins: [:]) }
        let sql = query + """
             AND dl.image_sha256 IN (SELECT image_sha256 FROM kept_pairs WHERE keyword_id IN (\(KeptPairs.placeholders(keywordIDs.count))))
            """ + order
        return try load(db, sql: sql, arguments: StatementArguments(keywordIDs))
    }

    private static func load(_ db: Database, sql: String, arguments: StatementArguments) throws -> ImageProvenance {
        var origins: [String: [ImageOrigin]] = [:]
        let rows = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let row = try rows.next() {
            origins[row["sha"], default: []].append(ImageOrigin(keywordID: row["kid"], source: row["source"],
                                                                license: row["license"], licenseURL: row["license_url"], author: row["author"],
                                                                pageURL: (row["page_url"] as String?).map(SecretRedactor.publicURL),
                                                                imageURL: (row["image_url"] as String?).map(SecretRedactor.publicURL),
                                                                rawLicense: row["raw"]))
        }
        return ImageProvenance(origins: origins)
    }

    /// Every origin of image `sha` (one per successful download, in the query's order).
    public func origins(of sha: String) -> [ImageOrigin] { origins[sha] ?? [] }

    /// The origin of image `sha` as it appears under keyword `keywordID`.
    public func origin(of sha: String, keywordID: Int64) -> ImageOrigin? {
        let candidates = origins[sha] ?? []
        return candidates.first { $0.keywordID == keywordID } ?? candidates.first
    }
}
