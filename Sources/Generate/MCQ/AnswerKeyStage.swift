import Dataset
import Foundation
import GRDB

/// `mcq.verify`, a stage: every generated question whose key is placed and that is accepted or disputed, with no
/// verdict of the current verifier (model, template, schema) on its current stem, options and key, is answered by
/// `AnswerKeyJudge` — with its image, and for Type 2 the descriptions it was written from (`Type2Plan`; the keyword's
/// accepted descriptions when the plan no longer has it). A key the verifier contradicts, or a question it finds
/// ambiguous, is `disputed` (`DisputedQuestions`); the verdict, the verifier's answer and its reason are stored in
/// `judgements`. Disputing changes only the status: options and keys stay where they were placed.
///
/// Imported questions (K-Viscuit, a question file) are not verified: they are a benchmark as published. A judge that
/// gives no verdict records nothing (the question stays as it was, pending for the next run) and counts as a
/// failure; a fatal endpoint error stops the stage.
public struct AnswerKeyStage: Stage {
    public struct Item: Sendable {
        public var question: Question
        /// The question's image in the workspace (relative path), when it has one.
        public var imagePath: String?
        /// Type 2: the descriptions it was written from.
        public var descriptions: [String]
    }

    public enum Outcome: Sendable {
        /// The verifier's verdict, and why the key is disputed (`wrong_key`, `ambiguous`; nil: confirmed).
        case judged(AnswerKeyJudge.Verdict, dispute: String?)
        case failed(JudgeError)
    }

    public let name = "mcq.verify"
    public let settings: MCQSettings
    public let judge: AnswerKeyJudge
    public let workspaceRoot: URL

    public init(settings: MCQSettings, client: any ChatService, workspaceRoot: URL) throws {
        self.settings = settings
        judge = try AnswerKeyJudge(service: client, model: settings.verifyModel, workspaceRoot: workspaceRoot, refresh: settings.refresh)
        self.workspaceRoot = workspaceRoot
    }

    public func pending(in manifest: Manifest) async throws -> [Item] {
        let settings = self.settings
        let hash = judge.settingsHash
        return try await manifest.asyncRead { db in
            let judgements = try JudgementRow.all(of: .answerKey, in: db)
            let questions = try QuestionStore.judgeable(in: db).filter { q in
                judgements[q.id]?.isCurrent(settingsHash: hash, subjectSHA256: AnswerKeyJudge.fingerprint(q)) != true
            }
            guard !questions.isEmpty else { return [] }
            let planned = questions.contains { $0.type == 2 }
                ? Dictionary(try Type2Plan.make(settings: settings, in: db).items.map { ($0.id, $0.descriptions) }, uniquingKeysWith: { a, _ in a })
                : [:]
            return try questions.map { q in
                let path = try q.imageSHA256.flatMap { try String.fetchOne(db, sql: "SELECT path FROM images WHERE sha256 = ?", arguments: [$0]) }
                var descriptions: [String] = []
                if q.type == 2 {
                    descriptions = try planned[q.id] ?? String.fetchAll(db, sql: """
                        SELECT text FROM descriptions WHERE keyword_id = ? AND status = 'accepted' AND text IS NOT NULL
                         ORDER BY aspect, mode, image_sha256, language, variant, template_sha256, model LIMIT ?
                        """, arguments: [q.keywordID, Type2Plan.descriptionsPerPrompt])
                }
                return Item(question: q, imagePath: path, descriptions: descriptions)
            }
        }
    }

    public func work(on item: Item) async throws -> Outcome {
        do throws(JudgeError) {
            let verdict = try await judge.judge(item.question, imageAt: item.imagePath.map { workspaceRoot.appendingPathComponent($0) },
                                                descriptions: item.descriptions)
            return .judged(verdict, dispute: verdict.dispute(key: item.question.answer))
        } catch {
            if let stop = error.stopsRun { throw stop }
            return .failed(error)
        }
    }

    public func record(_ outcome: Outcome, for item: Item, in db: Database, run: StageRun) throws {
        guard case .judged(let verdict, let dispute) = outcome else { return }
        let q = item.question
        let letter = QuestionVocabulary.letter(verdict.answer) ?? "?"
        try JudgementRow(judge: .answerKey, subject: q.id, subjectSHA256: AnswerKeyJudge.fingerprint(q), keywordID: q.keywordID,
                         imageSHA256: q.imageSHA256 ?? "", settingsHash: judge.settingsHash, model: judge.model,
                         verdict: dispute == nil ? .confirmed : .disputed, answer: letter, reason: verdict.reason,
                         detail: ["key": q.answerLetter, "ambiguous": verdict.ambiguous, "dispute": dispute ?? NSNull(),
                                  "descriptions": item.descriptions.count, "image": item.imagePath != nil],
                         requestKey: verdict.requestKey).upsert(db)
        try DisputedQuestions.apply(keep: settings.keepDisputed, ids: [q.id], in: db)
    }

    public func classify(_ outcome: Outcome) -> StageOutcomeClass {
        switch outcome {
        case .judged(_, let dispute):
            return StageOutcomeClass(key: dispute.map { "disputed_\($0)" } ?? "confirmed")
        case .failed(let error):
            return StageOutcomeClass(key: "failed_\(error.code.rawValue)", failed: true, message: error.description)
        }
    }
}
