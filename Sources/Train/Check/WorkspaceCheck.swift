import Dataset
import Foundation

/// One broken invariant: the item it concerns (a question id, an image sha, a shard file and member) and why.
public struct CheckViolation: Sendable, Equatable {
    public var item: String
    public var message: String

    public init(item: String, message: String) {
        self.item = item
        self.message = message
    }
}

/// One invariant of a sound experiment, audited over a loaded workspace. A new invariant is a new conformer in
/// its own file, registered in `WorkspaceChecks.all`.
public protocol WorkspaceCheck: Sendable {
    /// The name in `dsbuild check` output and `--json` (`split_disjoint`).
    var name: String { get }
    /// One line saying what the check proves.
    var rule: String { get }
    /// Every violation found, in a stable order.
    func run(_ context: CheckContext) throws -> [CheckViolation]
}

/// The registered checks, in the order they are reported.
public enum WorkspaceChecks {
    public static let all: [any WorkspaceCheck] = [
        ShardsIntactCheck(), AnswerKeysStableCheck(), SplitDisjointCheck(), AskableCheck(), TextOnlyNoImageRefsCheck(),
        OrientationAppliedCheck(), OneImageFormatCheck(), LetterBalanceCheck(), ProvenanceCompleteCheck(),
        ExportsRoundtripCheck(), RelevanceConfusionsCheck(), JudgementsAppliedCheck(),
    ]

    public static var names: [String] { all.map(\.name) }
}

/// What `dsbuild check` found: per check, its violations.
public struct CheckReport: Sendable {
    public struct Result: Sendable {
        public var name: String
        public var rule: String
        public var violations: [CheckViolation]
        public var ok: Bool { violations.isEmpty }
    }

    public var results: [Result]
    /// The shard folder audited (nil when the workspace has none yet).
    public var shards: URL?
    public var notes: [String]
    /// The judges' verdicts and what they kept out (faithfulness, answer keys), as `status` counts them.
    public var judgements = JudgementCounts()

    public var ok: Bool { results.allSatisfy(\.ok) }
    public var violationCount: Int { results.reduce(0) { $0 + $1.violations.count } }

    /// `{"ok", "checks": {name: {"ok", "violations", "examples"}}, "shards", "notes", "judgements"}`; `examples`
    /// holds up to `examples` lines of the form `item: message`; `judgements` is `JudgementCounts.json`.
    public func json(examples: Int = 20) -> [String: Any] {
        var checks: [String: Any] = [:]
        for result in results {
            checks[result.name] = ["ok": result.ok, "violations": result.violations.count, "rule": result.rule,
                                   "examples": result.violations.prefix(examples).map { "\($0.item): \($0.message)" }]
        }
        return ["ok": ok, "checks": checks, "shards": shards?.path ?? NSNull(), "notes": notes, "judgements": judgements.json]
    }

    /// One line per violation: `check_name: item: message`.
    public var lines: [String] {
        results.flatMap { result in result.violations.map { "\(result.name): \($0.item): \($0.message)" } }
    }

    /// The closing summary line.
    public var summary: String {
        let failed = results.filter { !$0.ok }
        if failed.isEmpty { return "check: all \(results.count) checks passed" }
        return "check: \(failed.count) of \(results.count) checks failed (" + failed.map { "\($0.name) \($0.violations.count)" }.joined(separator: ", ") + ")"
    }
}

/// Runs checks over a workspace and its shard folder. A reader: it takes no workspace lock and writes nothing.
public struct WorkspaceAuditor: Sendable {
    public let workspace: Workspace
    public let shards: URL
    /// The filter's duplicate distance (`filter.duplicates.phash_distance`): a near copy of a test image is
    /// one this close to it.
    public let phashDistance: Int
    /// `mcq.keep_disputed`: whether disputed questions may be in shards and the test set.
    public let keepDisputed: Bool
    /// The filter's semantic match (`filter.embeddings.model`, `filter.semantic_duplicates.threshold`): an image
    /// whose embedding meets a test image's at that cosine is a near copy of it too. Nil: no embedding model.
    public let semantic: SemanticMatch?

    public init(workspace: Workspace, shards: URL, phashDistance: Int, keepDisputed: Bool = false, semantic: SemanticMatch? = nil) {
        self.workspace = workspace
        self.shards = shards
        self.phashDistance = phashDistance
        self.keepDisputed = keepDisputed
        self.semantic = semantic
    }

    /// Loads the workspace once and runs `checks` (all by default) over it.
    public func run(only names: [String]? = nil) throws -> CheckReport {
        if let names, let unknown = names.first(where: { !WorkspaceChecks.names.contains($0) }) {
            throw CheckContext.LoadError(item: unknown, message: "unknown check; known: \(WorkspaceChecks.names.joined(separator: ", "))")
        }
        let context = try CheckContext.load(workspace: workspace, shards: shards, phashDistance: phashDistance,
                                            keepDisputed: keepDisputed, semantic: semantic)
        var results: [CheckReport.Result] = []
        for check in WorkspaceChecks.all where names?.contains(check.name) ?? true {
            results.append(.init(name: check.name, rule: check.rule, violations: try check.run(context)))
        }
        var report = CheckReport(results: results, shards: context.shardIndex == nil ? nil : shards, notes: context.notes)
        report.judgements = context.manifest.judgementCounts
        return report
    }
}
