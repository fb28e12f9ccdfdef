import Dataset
import Foundation
import GRDB

/// MMStar's vision-indispensable check, a stage: ask the model each accepted generated question without the
/// image (and, for Type 2, without the descriptions), `repeats` times with different seeds; a question answered
/// right every time is leaky (`questions.leaky`). With `drop`, leaky questions are rejected (reason `leaky`).
/// Answers come from the request cache on a rerun, so checking every accepted question again is cheap.
public struct BlindCheck: Stage {
    /// What the check found, per question type.
    public struct Report: Sendable, Equatable {
        /// Per type: (checked, leaky).
        public var byType: [Int: (checked: Int, leaky: Int)] = [:]
        public var failures = 0

        public init() {}

        /// The report a run's summary amounts to (its counts are `type<T>_leaky` and `type<T>_clean`).
        public init(_ summary: StageSummary) {
            failures = summary.failures
            for (key, count) in summary.counts {
                let parts = key.split(separator: "_")
                guard parts.count == 2, parts[0].hasPrefix("type"), let type = Int(parts[0].dropFirst(4)) else { continue }
                var entry = byType[type] ?? (0, 0)
                entry.checked += count
                if parts[1] == "leaky" { entry.leaky += count }
                byType[type] = entry
            }
        }

        public static func == (a: Report, b: Report) -> Bool {
            a.failures == b.failures && a.byType.keys == b.byType.keys
                && a.byType.allSatisfy { b.byType[$0.key]?.checked == $0.value.checked && b.byType[$0.key]?.leaky == $0.value.leaky }
        }

        public var json: [String: Any] {
            var object: [String: Any] = ["failures": failures]
            for (type, value) in byType {
                object["type\(type)"] = ["checked": value.checked, "leaky": value.leaky,
                                         "leak_rate": value.checked == 0 ? 0 : Double(value.leaky) / Double(value.checked)]
            }
            return object
        }
    }

    public enum Outcome: Sendable {
        /// Asked `repeats` times: `leaky` when every answer was right.
        case checked(type: Int, leaky: Bool)
        case failed(ChatError)
    }

    public let name = "mcq.blind_check"
    public let settings: MCQSettings
    public let client: any ChatService

    public init(settings: MCQSettings, client: any ChatService) {
        self.settings = settings
        self.client = client
    }

    var repeats: Int { max(settings.blindRepeats, 1) }

    /// The question as every model is asked it (`QuestionVocabulary.prompt`).
    public static func prompt(_ q: Question) -> String { q.prompt }

    /// The option a reply chose, by the one extractor eval uses too (`LetterExtractor`).
    public static func letter(in reply: String, options: [String]) -> Int? {
        LetterExtractor.extract(reply, options: options)
    }

    public func pending(in manifest: Manifest) async throws -> [Question] {
        try await manifest.asyncRead { db in try QuestionStore.accepted(origin: "generated", in: db) }
    }

    public func work(on q: Question) async throws -> Outcome {
        var right = 0
        for attempt in 0..<repeats {
            let request = ChatRequest(model: settings.model, messages: [.user(Self.prompt(q))], temperature: attempt == 0 ? 0 : 0.7,
                                      maxTokens: 3, seed: settings.seed + attempt, purpose: "mcq.blind", refresh: settings.refresh)
            do {
                let result = try await client.complete(request)
                if Self.letter(in: result.text, options: q.options) == q.answer { right += 1 }
            } catch {
                if error.endsItemWork { throw error }
                return .failed(error)
            }
        }
        return .checked(type: q.type, leaky: right == repeats)
    }

    public func record(_ outcome: Outcome, for q: Question, in db: Database, run: StageRun) throws {
        guard case .checked(_, let leaky) = outcome else { return }
        typealias C = QuestionRow.Columns
        try QuestionRow.filter(key: q.id).updateAll(db, C.leaky.set(to: leaky))
        if leaky && settings.dropLeaky {
            try QuestionRow.filter(key: q.id).updateAll(db, C.status.set(to: "rejected"), C.reason.set(to: "leaky"))
        }
    }

    public func classify(_ outcome: Outcome) -> StageOutcomeClass {
        switch outcome {
        case .checked(let type, let leaky): return StageOutcomeClass(key: "type\(type)_\(leaky ? "leaky" : "clean")")
        case .failed(let error):
            return StageOutcomeClass(key: "failed_\(error.code.rawValue)", failed: true, message: "blind check: \(error.description)")
        }
    }
}
