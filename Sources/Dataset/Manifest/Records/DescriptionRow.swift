import Foundation
import GRDB

/// A row of `descriptions`: one description of one keyword (and image, for an image-grounded one) in one aspect,
/// mode, language and variant, by one model from one template — accepted with its text, rejected with the check
/// that refused it, or failed. Its identity is `DescriptionKey`; a rewrite replaces the row in place.
public struct DescriptionRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    public static let databaseTableName = "descriptions"
    public static let databaseColumnDecodingStrategy = DatabaseColumnDecodingStrategy.convertFromSnakeCase
    public static let databaseColumnEncodingStrategy = DatabaseColumnEncodingStrategy.convertToSnakeCase

    public var id: Int64?
    public var keywordId: Int64
    /// Empty for a text-only description.
    public var imageSha256: String
    public var aspect: String
    public var mode: String
    public var language: String
    public var variant: Int
    public var templateSha256: String
    public var model: String
    public var text: String?
    /// `accepted`, `rejected` (a check refused it: too short, `near_duplicate`, `unfaithful`…) or `failed`.
    public var status: String
    public var reason: String?
    public var detail: String?
    public var requestKey: String?
    public var promptTokens: Int
    public var completionTokens: Int
    public var createdAt: Double

    public init(key: DescriptionKey, model: String, text: String?, status: String, reason: String?, detail: String?,
                requestKey: String?, promptTokens: Int, completionTokens: Int, createdAt: Double = Date().timeIntervalSince1970) {
        self.keywordId = key.keywordID
        self.imageSha256 = key.imageSHA256
        self.aspect = key.aspect
        self.mode = key.mode
        self.language = key.language
        self.variant = key.variant
        self.templateSha256 = key.templateSHA256
        self.model = model
        self.text = text
        self.status = status
        self.reason = reason
        self.detail = detail
        self.requestKey = requestKey
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.createdAt = createdAt
    }

    /// What the row describes (its identity but the model).
    public var key: DescriptionKey {
        DescriptionKey(keywordID: keywordId, imageSHA256: imageSha256, aspect: aspect, mode: mode, language: language,
                       variant: variant, templateSHA256: templateSha256)
    }

    /// The row's identity as a `judgements` subject.
    public var subject: String { key.subject(model: model) }
}

/// What one description is of: keyword, image ('' for text-only), aspect, mode, language, variant and template.
/// With the model, the identity of a `descriptions` row.
public struct DescriptionKey: Hashable, Sendable {
    public var keywordID: Int64
    public var imageSHA256: String
    public var aspect: String
    public var mode: String
    public var language: String
    public var variant: Int
    public var templateSHA256: String

    public init(keywordID: Int64, imageSHA256: String, aspect: String, mode: String, language: String, variant: Int, templateSHA256: String) {
        self.keywordID = keywordID
        self.imageSHA256 = imageSHA256
        self.aspect = aspect
        self.mode = mode
        self.language = language
        self.variant = variant
        self.templateSHA256 = templateSHA256
    }

    /// The identity of the `descriptions` row of this key and `model`, as one text: a `judgements` subject.
    public func subject(model: String) -> String {
        ["description", String(keywordID), imageSHA256, aspect, mode, language, String(variant), templateSHA256, model]
            .joined(separator: "|")
    }
}
