import Dataset
import Foundation
import GRDB

/// Maps the answer-key verdicts onto question statuses, the one place that does: a question whose current verdict
/// (`judgements`, judge `answer_key`, about its present stem, options and key) is `disputed` is `disputed` — out of
/// shards, exports, question files and eval, which all read `accepted` questions only — unless `mcq.keep_disputed`,
/// which keeps it `accepted`; a `confirmed` one is `accepted`. Its `reason` says why it is disputed (`wrong_key`,
/// `ambiguous`). Only accepted and disputed questions are touched (a rejected or failed one stays as it is), and
/// only their status and reason: options and keys never move.
///
/// A whole-set step (`mcq.disputes`) that every `mcq` run ends its generation with, so toggling `keep_disputed`
/// takes effect on the next run without a request; `mcq.verify: false` asks nothing new and leaves stored verdicts
/// in force.
public struct DisputedQuestions: WholeSetStage {
    /// What applying the verdicts changed.
    public struct Result: Sendable, Equatable {
        /// Questions now `disputed`.
        public var disputed = 0
        /// Disputed questions kept `accepted` by `keep_disputed`.
        public var kept = 0
        /// Questions whose status changed in this run.
        public var changed = 0
    }

    public let name = "mcq.disputes"
    public let keep: Bool

    public init(keep: Bool) { self.keep = keep }

    public func run(in context: StageContext) async throws -> Result {
        let keep = self.keep
        return try await context.manifest.asyncWrite { db in try Self.apply(keep: keep, in: db) }
    }

    public func counts(of result: Result) -> [String: Int] {
        ["disputed": result.disputed, "kept": result.kept, "changed": result.changed]
    }

    /// Applies the verdicts to every judged question (or those of `ids`).
    @discardableResult
    public static func apply(keep: Bool, ids: [String]? = nil, in db: Database) throws -> Result {
        typealias C = QuestionRow.Columns
        typealias S = QuestionRow.Status
        // The judged questions with their verdicts, by a join (a list of every judged id could exceed SQLite's
        // limit on bound values).
        var sql = """
            SELECT q.* FROM questions q JOIN judgements j ON j.judge = ? AND j.subject = q.id WHERE q.status IN (?, ?)
            """
        var arguments: StatementArguments = [Judge.answerKey.rawValue, S.accepted, S.disputed]
        if let ids {
            sql += " AND q.id IN (\(databaseQuestionMarks(count: ids.count)))"
            arguments += StatementArguments(ids)
        }
        let rows = try QuestionRow.fetchAll(db, sql: sql, arguments: arguments)
        let judgements = ids == nil
            ? try JudgementRow.all(of: .answerKey, in: db)
            : try JudgementRow.filter(Column("judge") == Judge.answerKey.rawValue && (ids ?? []).contains(Column("subject")))
                .fetchAll(db).reduce(into: [String: JudgementRow]()) { $0[$1.subject] = $1 }
        var result = Result()
        for row in rows {
            let q = row.question
            guard let judgement = judgements[q.id], judgement.subjectSha256 == AnswerKeyJudge.fingerprint(q) else { continue }
            let disputed = judgement.judgementVerdict == .disputed
            let status = disputed && !keep ? S.disputed : S.accepted
            if disputed { if keep { result.kept += 1 } else { result.disputed += 1 } }
            let wantedReason = status == S.disputed ? judgement.detailObject["dispute"] as? String ?? "disputed" : nil
            guard row.status != status || row.reason != wantedReason else { continue }
            try QuestionRow.filter(key: q.id).updateAll(db, C.status.set(to: status), C.reason.set(to: wantedReason))
            result.changed += 1
        }
        return result
    }
}
