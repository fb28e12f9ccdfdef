/// Rights and provenance metadata embedded in an image: EXIF, IPTC-IIM (Photoshop APP13) and XMP.
/// CDNs often strip metadata, so absence proves nothing; presence is a strong signal (stock credits,
/// `plus:DataMining` prohibitions, AI-generated `DigitalSourceType`).
public struct EmbeddedRights: Sendable, Codable, Equatable {
    // EXIF IFD0
    public var exifCopyright: String?
    public var exifArtist: String?
    // IPTC-IIM record 2
    public var iptcByline: [String] = []
    public var iptcCredit: String?
    public var iptcSource: String?
    public var iptcCopyrightNotice: String?
    // XMP, matched by namespace URI
    public var xmpRights: String?
    public var xmpCreators: [String] = []
    public var xmpWebStatement: String?
    public var xmpMarked: String?
    public var xmpUsageTerms: String?
    public var xmpOwner: String?
    public var xmpCredit: String?
    public var xmpSource: String?
    public var xmpLicensorName: String?
    public var xmpLicensorURL: String?
    public var xmpDataMining: String?
    public var xmpDigitalSourceType: String?
    public var gettyAssetID: String?

    public init() {}

    public var isEmpty: Bool { flattened.isEmpty }

    /// A flat view with stable keys, for storing in the manifest. Lists are joined with "; ".
    public var flattened: [String: String] {
        var out: [String: String] = [:]
        func put(_ key: String, _ value: String?) { if let value, !value.isEmpty { out[key] = value } }
        func put(_ key: String, _ values: [String]) { if !values.isEmpty { out[key] = values.joined(separator: "; ") } }
        put(Key.exifCopyright, exifCopyright)
        put(Key.exifArtist, exifArtist)
        put(Key.iptcByline, iptcByline)
        put(Key.iptcCredit, iptcCredit)
        put(Key.iptcSource, iptcSource)
        put(Key.iptcCopyrightNotice, iptcCopyrightNotice)
        put(Key.xmpRights, xmpRights)
        put(Key.xmpCreator, xmpCreators)
        put(Key.xmpWebStatement, xmpWebStatement)
        put(Key.xmpMarked, xmpMarked)
        put(Key.xmpUsageTerms, xmpUsageTerms)
        put(Key.xmpOwner, xmpOwner)
        put(Key.xmpCredit, xmpCredit)
        put(Key.xmpSource, xmpSource)
        put(Key.xmpLicensorName, xmpLicensorName)
        put(Key.xmpLicensorURL, xmpLicensorURL)
        put(Key.xmpDataMining, xmpDataMining)
        put(Key.xmpDigitalSourceType, xmpDigitalSourceType)
        put(Key.gettyAssetID, gettyAssetID)
        return out
    }

    /// The stable keys used by `flattened`.
    public enum Key {
        public static let exifCopyright = "exif.copyright"
        public static let exifArtist = "exif.artist"
        public static let iptcByline = "iptc.by_line"
        public static let iptcCredit = "iptc.credit"
        public static let iptcSource = "iptc.source"
        public static let iptcCopyrightNotice = "iptc.copyright_notice"
        public static let xmpRights = "xmp.dc.rights"
        public static let xmpCreator = "xmp.dc.creator"
        public static let xmpWebStatement = "xmp.rights.web_statement"
        public static let xmpMarked = "xmp.rights.marked"
        public static let xmpUsageTerms = "xmp.rights.usage_terms"
        public static let xmpOwner = "xmp.rights.owner"
        public static let xmpCredit = "xmp.photoshop.credit"
        public static let xmpSource = "xmp.photoshop.source"
        public static let xmpLicensorName = "xmp.plus.licensor_name"
        public static let xmpLicensorURL = "xmp.plus.licensor_url"
        public static let xmpDataMining = "xmp.plus.data_mining"
        public static let xmpDigitalSourceType = "xmp.iptc_ext.digital_source_type"
        public static let gettyAssetID = "xmp.getty.asset_id"
    }

    /// `plus:DataMining` says some form of text/data mining or AI training is prohibited
    /// (any `DMI-PROHIBITED…` value). nil when the field is absent or UNSPECIFIED.
    public var dataMiningProhibited: Bool? {
        guard let v = xmpDataMining?.uppercased(), !v.isEmpty else { return nil }
        if v.contains("PROHIBITED") { return true }
        if v.contains("ALLOWED") { return false }
        return nil
    }

    /// IPTC DigitalSourceType says the image was made by a generative model.
    public var declaresAIGenerated: Bool {
        guard let v = xmpDigitalSourceType else { return false }
        return v.hasSuffix("trainedAlgorithmicMedia") || v.hasSuffix("compositeSynthetic")
            || v.hasSuffix("compositeWithTrainedAlgorithmicMedia")
    }

    /// Merge fields from another source; existing values win (EXIF/IPTC before XMP is irrelevant
    /// since they fill different fields).
    mutating func merge(_ other: EmbeddedRights) {
        exifCopyright = exifCopyright ?? other.exifCopyright
        exifArtist = exifArtist ?? other.exifArtist
        if iptcByline.isEmpty { iptcByline = other.iptcByline }
        iptcCredit = iptcCredit ?? other.iptcCredit
        iptcSource = iptcSource ?? other.iptcSource
        iptcCopyrightNotice = iptcCopyrightNotice ?? other.iptcCopyrightNotice
        xmpRights = xmpRights ?? other.xmpRights
        if xmpCreators.isEmpty { xmpCreators = other.xmpCreators }
        xmpWebStatement = xmpWebStatement ?? other.xmpWebStatement
        xmpMarked = xmpMarked ?? other.xmpMarked
        xmpUsageTerms = xmpUsageTerms ?? other.xmpUsageTerms
        xmpOwner = xmpOwner ?? other.xmpOwner
        xmpCredit = xmpCredit ?? other.xmpCredit
        xmpSource = xmpSource ?? other.xmpSource
        xmpLicensorName = xmpLicensorName ?? other.xmpLicensorName
        xmpLicensorURL = xmpLicensorURL ?? other.xmpLicensorURL
        xmpDataMining = xmpDataMining ?? other.xmpDataMining
        xmpDigitalSourceType = xmpDigitalSourceType ?? other.xmpDigitalSourceType
        gettyAssetID = gettyAssetID ?? other.gettyAssetID
    }
}
