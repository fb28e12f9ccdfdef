import Foundation
import GRDB

/// A row of `filter_decisions`: one rule's verdict on one image as one keyword's candidate, under the hash of the
/// settings it was made with (a decision made under other settings is pending again). `pass` is 1 (kept by this
/// rule), 0 (dropped) or -1 (undecided: the rule could not decide for a reason outside the image). A pair is
/// kept when every decision passed — the `kept_pairs` view.
public struct FilterDecisionRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "filter_decisions"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var imageSha256: String
    public var keywordId: Int64
    public var rule: String
    public var settingsHash: String
    public var pass: Int
    public var value: String?
    public var threshold: String?
    public var reason: String?
    public var decidedAt: Double

    public init(pair: KeywordImage, rule: String, settingsHash: String, pass: Int, value: String?, threshold: String?,
                reason: String?, decidedAt: Double = Date().timeIntervalSince1970) {
        self.imageSha256 = pair.sha256
        self.keywordId = pair.keywordID
        self.rule = rule
        self.settingsHash = settingsHash
        self.pass = pass
        self.value = value
        self.threshold = threshold
        self.reason = reason
        self.decidedAt = decidedAt
    }

    /// The pair it decides.
    public var pair: KeywordImage { KeywordImage(keywordID: keywordId, sha256: imageSha256) }
}
