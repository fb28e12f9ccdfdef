/// One image as one keyword's candidate: the pair every filter decision, split and kept-ness is about. The typed
/// key of `filter_decisions`, `splits` and `kept_pairs`, in place of a `"<keyword>|<sha>"` string.
public struct KeywordImage: Hashable, Sendable, Comparable {
    public let keywordID: Int64
    public let sha256: String

    public init(keywordID: Int64, sha256: String) {
        self.keywordID = keywordID
        self.sha256 = sha256
    }

    /// Keyword id, then hash: the order the manifest lists pairs in.
    public static func < (a: KeywordImage, b: KeywordImage) -> Bool {
        (a.keywordID, a.sha256) < (b.keywordID, b.sha256)
    }
}
