import Foundation

/// One image a source proposes for a keyword, with the provenance it reported. Stored as a `candidates` row.
public struct Candidate: Sendable, Equatable {
    public var source: String
    /// The source's own id (a Commons title, an iNaturalist photo id, a line number of a URL list…); unique per
    /// keyword and source.
    public var sourceID: String
    public var imageURL: String
    public var pageURL: String?
    /// The licence as normalised by `License.normalize` (`cc-by-sa`), or the raw spelling when unknown.
    public var license: String?
    public var licenseURL: String?
    public var author: String?
    public var title: String?
    public var description: String?
    public var declaredWidth: Int?
    public var declaredHeight: Int?
    public var declaredBytes: Int?
    public var declaredMime: String?
    public var declaredSHA1: String?
    /// Any other field the source gave (a URL list's extra columns, the raw licence spelling…).
    public var extra: [String: String]
    /// The position in the source's ranking, 0 first.
    public var rank: Int

    public init(source: String, sourceID: String, imageURL: String, pageURL: String? = nil, license: String? = nil,
                licenseURL: String? = nil, author: String? = nil, title: String? = nil, description: String? = nil,
                declaredWidth: Int? = nil, declaredHeight: Int? = nil, declaredBytes: Int? = nil,
                declaredMime: String? = nil, declaredSHA1: String? = nil, extra: [String: String] = [:], rank: Int = 0) {
        self.source = source
        self.sourceID = sourceID
        self.imageURL = imageURL
        self.pageURL = pageURL
        self.license = license
        self.licenseURL = licenseURL
        self.author = author
        self.title = title
        self.description = description
        self.declaredWidth = declaredWidth
        self.declaredHeight = declaredHeight
        self.declaredBytes = declaredBytes
        self.declaredMime = declaredMime
        self.declaredSHA1 = declaredSHA1
        self.extra = extra
        self.rank = rank
    }
}
