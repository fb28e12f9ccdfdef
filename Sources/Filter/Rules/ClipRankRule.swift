import Dataset
import Imaging

/// A second, local opinion on whether an image shows its keyword: among the keywords of the keyword's category (all
/// keywords when it has none), ranked by the cosine of the image's embedding with each keyword's text embedding
/// (`dsbuild embed`), the image's own keyword must be in the top `k`. The decision records the rank and the
/// closest other keyword (`clip_rank 5 > 3: closest keyword "Viceroy"`). An image or keyword without a stored
/// embedding is undecided — a failure to fix by running `dsbuild embed`, never a drop.
public struct ClipRankRule: RegisteredRule {
    public static let ruleName = "clip_rank"

    /// `filter.clip_rank.*`: off by default (it needs embeddings).
    public struct Settings: RuleSettings {
        public var enabled = false
        public var k = 3

        public init() {}

        public static let keys: [SettingKey<Settings>] = [
            .bool("clip_rank.enabled", \.enabled, help: "drop images whose keyword is not among the top k keywords of its category by embedding cosine (needs `dsbuild embed`)"),
            .int("clip_rank.k", \.k, rule: .atLeast(1), help: "the rank an image's own keyword must reach"),
        ]
    }

    /// The rule when it is on and the filter has the embeddings (`FilterEmbeddings`) it ranks with.
    public static func make(_ settings: Settings, context: RuleContext) -> ClipRankRule? {
        guard settings.enabled, let embeddings = context.embeddings else { return nil }
        return ClipRankRule(k: settings.k, embeddings: embeddings)
    }

    public let k: Int
    public let embeddings: FilterEmbeddings

    public init(k: Int, embeddings: FilterEmbeddings) {
        self.k = k
        self.embeddings = embeddings
    }

    public var settingsDescription: String { "k=\(k)|model=\(embeddings.modelID)|keywords=\(embeddings.keywordDigest)" }

    public func decide(_ s: FilterSubject) async -> RuleDecision {
        let threshold = "<= \(k)"
        let image = "image \(s.sha256.prefix(12)) (\(s.keyword))"
        guard let vector = embeddings.lookup?.image(s.sha256) else {
            return .undecided(threshold, "\(image): clip_rank undecided, the image has no embedding under \(embeddings.folder.lastPathComponent); run `dsbuild embed`")
        }
        let competitors = embeddings.competitors(of: s.keywordID)
        let unembedded = competitors.filter { $0.keyword.vector == nil }.map(\.keyword.text)
        if !unembedded.isEmpty {
            let names = unembedded.prefix(3).map { "\"\($0)\"" }.joined(separator: ", ") + (unembedded.count > 3 ? " and \(unembedded.count - 3) more" : "")
            return .undecided(threshold, "\(image): clip_rank undecided, keyword \(names) has no text embedding for the current prompt; run `dsbuild embed`")
        }
        var own: Float = -2
        var others: [(text: String, score: Float)] = []
        for (id, keyword) in competitors {
            let score = CosineIndex<Int>.cosine(vector, keyword.vector ?? [])
            if id == s.keywordID { own = score } else { others.append((keyword.text, score)) }
        }
        let rank = 1 + others.filter { $0.score > own }.count
        guard let closest = others.max(by: { $0.score < $1.score }) else {
            return .keep("1", threshold, "clip_rank 1 <= \(k): the only keyword of its category")
        }
        return rank <= k
            ? .keep("\(rank)", threshold, "clip_rank \(rank) <= \(k): closest other keyword \"\(closest.text)\"")
            : .drop("\(rank)", threshold, "clip_rank \(rank) > \(k): closest keyword \"\(closest.text)\"")
    }
}
