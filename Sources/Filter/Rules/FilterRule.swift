import Dataset
import Foundation

/// What a rule looks at: one stored image as one keyword's candidate, with its probe and provenance.
public struct FilterSubject: Sendable {
    public let sha256: String
    public let keywordID: Int64
    public let keyword: String
    /// Absolute path of the stored image.
    public let fileURL: URL
    public let bytes: Int
    public let probe: ProbedImage
    /// URLs the image came from (image URL and page URL of every candidate that led to it).
    public let urls: [String]
    /// Candidate metadata (`pwatermark`, `punsafe`, `WIDTH`…), merged over the candidates.
    public let extra: [String: String]
    /// The best (lowest) search rank among the candidates that led to the image: between two duplicates of the
    /// same size, the better-ranked one is kept (deterministic, unlike download time).
    public let searchRank: Int

    /// The pair the subject is: its keyword and image.
    public var pair: KeywordImage { KeywordImage(keywordID: keywordID, sha256: sha256) }

    public init(sha256: String, keywordID: Int64, keyword: String, fileURL: URL, bytes: Int, probe: ProbedImage,
                urls: [String], extra: [String: String], searchRank: Int) {
        self.sha256 = sha256
        self.keywordID = keywordID
        self.keyword = keyword
        self.fileURL = fileURL
        self.bytes = bytes
        self.probe = probe
        self.urls = urls
        self.extra = extra
        self.searchRank = searchRank
    }
}

/// One rule's verdict on one subject: pass or drop, the measured value, the threshold, and a human reason
/// (`short_side 384 < 512`) — or no verdict at all (`undecided`): the rule could not decide for a reason outside
/// the image (its judge was unreachable, out of quota, timed out). An undecided pair is stored with `pass = -1`
/// under no settings hash, so it is not kept (`kept_pairs` wants every decision to pass), is not counted as a
/// drop, and is pending again on the next filter run.
public struct RuleDecision: Sendable, Equatable {
    public let pass: Bool
    public let value: String
    public let threshold: String
    public let reason: String
    /// True when the rule failed to decide (a failure, never a drop): retried on the next run.
    public let undecided: Bool
    /// True when the failure will repeat for every image (a refused key, an exhausted quota): the run stops.
    public let stopsRun: Bool
    /// How the stopped run's row is closed (`RunStopping.runStatus`: `budget_exhausted`, else `error`).
    public let stopStatus: String
    /// True when the judge's request was queued for a batch (`llm.batch`): nothing is recorded for the image, which
    /// stays pending until the batch's answer is in the cache.
    public var deferred = false

    public init(pass: Bool, value: String, threshold: String, reason: String, undecided: Bool = false, stopsRun: Bool = false,
                stopStatus: String = "error") {
        self.pass = pass
        self.value = value
        self.threshold = threshold
        self.reason = reason
        self.undecided = undecided
        self.stopsRun = stopsRun
        self.stopStatus = stopStatus
    }

    /// No verdict: the rule failed for a reason outside the image; `reason` says what failed.
    public static func undecided(_ threshold: String, _ reason: String, stopsRun: Bool = false, stopStatus: String = "error") -> RuleDecision {
        RuleDecision(pass: false, value: "undecided", threshold: threshold, reason: reason, undecided: true, stopsRun: stopsRun,
                     stopStatus: stopStatus)
    }

    public static func keep(_ value: String, _ threshold: String, _ reason: String) -> RuleDecision {
        RuleDecision(pass: true, value: value, threshold: threshold, reason: reason)
    }

    public static func drop(_ value: String, _ threshold: String, _ reason: String) -> RuleDecision {
        RuleDecision(pass: false, value: value, threshold: threshold, reason: reason)
    }
}

/// A filter rule that decides each image on its own. A new rule is one file with a `RegisteredRule` conformer
/// (its name, keys, defaults and construction) and one entry in `FilterRules.all`.
public protocol FilterRule: Sendable {
    /// The stable snake_case name recorded with each decision and counted by `status`.
    var name: String { get }
    /// The settings that change this rule's outcome, rendered stably; their hash makes decisions made under
    /// other settings pending again.
    var settingsDescription: String { get }
    /// True when deciding costs a model call (a judge): such a rule is asked only about pairs no other rule drops,
    /// and a pair another rule drops needs no decision of it (`FilterRuleStage`).
    var asksModel: Bool { get }
    func decide(_ subject: FilterSubject) async -> RuleDecision
}

extension FilterRule {
    public var asksModel: Bool { false }

    public var settingsHash: String { ContentHash.sha256Hex("\(name)|\(settingsDescription)") }
}

/// Formats a number for reasons: integers without a decimal point, others with up to 3 decimals.
func formatNumber(_ value: Double) -> String {
    if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
    return String(format: "%.3g", value)
}
