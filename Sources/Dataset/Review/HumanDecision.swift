import GRDB

/// A human review decision (`dsbuild review`): what a reviewer decided about an image for a keyword, a description
/// or a question. It overrides every automated decision for that item and survives reruns (`HumanDecisionSchema`).
public enum HumanDecision {
    /// The `reason` of a description or question whose status a human decided, and the rule name under which
    /// `status` counts images a human rejected.
    public static let reason = "human"

    /// The current human decision for an (image, keyword) pair: `accept`, `reject`, or nil when no human decided.
    public static func pair(sha256: String, keywordID: Int64, in db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT decision FROM human_pairs WHERE image_sha256 = ? AND keyword_id = ?",
                            arguments: [sha256, keywordID])
    }
}

/// How many items humans decided, by kind and verdict (reviews not undone): `status`, the report and `shards.json`.
public struct HumanDecisionCounts: Sendable, Equatable {
    public var imagesAccepted = 0
    public var imagesRejected = 0
    public var imagesRelabelled = 0
    public var descriptionsAccepted = 0
    public var descriptionsRejected = 0
    public var descriptionsEdited = 0
    public var questionsAccepted = 0
    public var questionsRejected = 0
    public var questionsEdited = 0
    /// Review actions in the log that are in force (not undone).
    public var actions = 0

    public init() {}

    public static func compute(_ db: Database) throws -> HumanDecisionCounts {
        var c = HumanDecisionCounts()
        func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }
        c.imagesAccepted = try count("SELECT COUNT(*) FROM human_pairs WHERE decision = 'accept'")
        c.imagesRejected = try count("SELECT COUNT(*) FROM human_pairs WHERE decision = 'reject'")
        c.imagesRelabelled = try count("SELECT COUNT(*) FROM reviews WHERE action = 'relabel' AND undone_at IS NULL")
        c.descriptionsAccepted = try count("SELECT COUNT(*) FROM human_texts WHERE subject = 'description' AND status = 'accepted'")
        c.descriptionsRejected = try count("SELECT COUNT(*) FROM human_texts WHERE subject = 'description' AND status = 'rejected'")
        c.descriptionsEdited = try count("SELECT COUNT(*) FROM reviews WHERE subject = 'description' AND action = 'edit' AND undone_at IS NULL")
        c.questionsAccepted = try count("SELECT COUNT(*) FROM human_texts WHERE subject = 'question' AND status = 'accepted'")
        c.questionsRejected = try count("SELECT COUNT(*) FROM human_texts WHERE subject = 'question' AND status = 'rejected'")
        c.questionsEdited = try count("SELECT COUNT(*) FROM reviews WHERE subject = 'question' AND action = 'edit' AND undone_at IS NULL")
        c.actions = try count("SELECT COUNT(*) FROM reviews WHERE undone_at IS NULL")
        return c
    }

    public var isEmpty: Bool { actions == 0 }

    /// The machine-readable form (`status --json` → `reviews`, `shards.json` → `reviews`).
    public var json: [String: Any] {
        [
            "actions": actions,
            "images": ["accepted": imagesAccepted, "rejected": imagesRejected, "relabelled": imagesRelabelled],
            "descriptions": ["accepted": descriptionsAccepted, "rejected": descriptionsRejected, "edited": descriptionsEdited],
            "questions": ["accepted": questionsAccepted, "rejected": questionsRejected, "edited": questionsEdited],
        ]
    }

    /// One line for `status` and the report.
    public var line: String {
        "reviews       \(actions) in force: images \(imagesAccepted) accepted, \(imagesRejected) rejected (\(imagesRelabelled) relabelled); "
            + "descriptions \(descriptionsAccepted) accepted, \(descriptionsRejected) rejected, \(descriptionsEdited) edited; "
            + "questions \(questionsAccepted) accepted, \(questionsRejected) rejected, \(questionsEdited) edited"
    }
}
