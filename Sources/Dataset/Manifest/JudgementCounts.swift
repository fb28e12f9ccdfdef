import Foundation
import GRDB

/// The judges' verdicts counted from `judgements` (per judge, and per judge and keyword), with what they did to
/// the data: questions kept out as `disputed` or kept by `mcq.keep_disputed`, descriptions rejected as
/// `unfaithful`. One computation for `dsbuild status`, the report and `dsbuild check`.
public struct JudgementCounts: Sendable, Equatable {
    /// judge → verdict → count; every verdict of a judge that has judged anything is present, 0 included.
    public var verdicts: [String: [String: Int]] = [:]
    /// judge → keyword text → verdict → count (verdicts of items of no keyword under "").
    public var byKeyword: [String: [String: [String: Int]]] = [:]
    /// Questions with status `disputed`: out of shards, exports, question files and eval.
    public var disputedExcluded = 0
    /// Questions the verifier disputed that are `accepted` because `mcq.keep_disputed` is on.
    public var disputedKept = 0
    /// Descriptions rejected because the faithfulness judge found them unfaithful after every attempt.
    public var unfaithfulRejected = 0

    public init() {}

    public var isEmpty: Bool { verdicts.isEmpty }

    public static func compute(_ db: Database) throws -> JudgementCounts {
        var counts = JudgementCounts()
        for row in try Row.fetchAll(db, sql: """
            SELECT j.judge, j.verdict, COALESCE(k.text, '') AS keyword, COUNT(*) AS n
              FROM judgements j LEFT JOIN keywords k ON k.id = j.keyword_id
             GROUP BY j.judge, j.verdict, keyword
            """) {
            let judge: String = row["judge"], verdict: String = row["verdict"], keyword: String = row["keyword"], n: Int = row["n"]
            if counts.verdicts[judge] == nil {
                counts.verdicts[judge] = Dictionary(uniqueKeysWithValues: (Judge(rawValue: judge)?.verdicts ?? []).map { ($0.rawValue, 0) })
            }
            counts.verdicts[judge]![verdict, default: 0] += n
            counts.byKeyword[judge, default: [:]][keyword, default: [:]][verdict, default: 0] += n
        }
        counts.disputedExcluded = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM questions WHERE status = ?",
                                                   arguments: [QuestionRow.Status.disputed]) ?? 0
        counts.disputedKept = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM questions q JOIN judgements j ON j.judge = ? AND j.subject = q.id
             WHERE j.verdict = ? AND q.status = ?
            """, arguments: [Judge.answerKey.rawValue, JudgementVerdict.disputed.rawValue, QuestionRow.Status.accepted]) ?? 0
        counts.unfaithfulRejected = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM descriptions WHERE status = 'rejected' AND reason = ?",
                                                     arguments: [JudgementVerdict.unfaithful.rawValue]) ?? 0
        return counts
    }

    /// `{"<judge>": {"verdicts": {…}, "by_keyword": {"<keyword>": {…}}}, "questions_disputed": n,
    /// "questions_disputed_kept": n, "descriptions_unfaithful": n}`.
    public var json: [String: Any] {
        var object: [String: Any] = ["questions_disputed": disputedExcluded, "questions_disputed_kept": disputedKept,
                                     "descriptions_unfaithful": unfaithfulRejected]
        for (judge, verdicts) in verdicts {
            object[judge] = ["verdicts": verdicts, "by_keyword": byKeyword[judge] ?? [:]]
        }
        return object
    }

    /// One line per judge that has judged anything, e.g.
    /// `answer_key: confirmed 20, disputed 3 (2 kept out, 1 kept by mcq.keep_disputed)`.
    public var lines: [String] {
        verdicts.keys.sorted().map { judge in
            let known = Judge(rawValue: judge)?.verdicts.map(\.rawValue) ?? []
            let all = verdicts[judge] ?? [:]
            let order = known + all.keys.filter { !known.contains($0) }.sorted()
            var line = "\(judge): " + order.map { "\($0) \(all[$0] ?? 0)" }.joined(separator: ", ")
            switch Judge(rawValue: judge) {
            case .answerKey: line += " (\(disputedExcluded) kept out, \(disputedKept) kept by mcq.keep_disputed)"
            case .faithfulness: line += " (\(unfaithfulRejected) descriptions rejected as unfaithful)"
            case nil: break
            }
            return line
        }
    }
}
