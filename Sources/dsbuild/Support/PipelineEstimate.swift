import Dataset
import Filter
import Foundation
import Generate
import GRDB

/// What `dsbuild estimate` (and `--estimate` on filter, describe, mcq and run) puts together, since it needs both
/// Filter and Generate: each pending stage's own request code run over an `EstimatingChatService` (nothing sent,
/// nothing recorded, the cache read without counting hits), and the requests that cannot be rendered yet projected
/// from the plan:
/// - filter: the judges' requests of a dry run (only pairs no other rule drops, as a real run);
/// - describe: every pending writer request; with `describe.verify`, one projected verdict per new description;
/// - mcq: the Type 2 requests the plan can write now; for keywords whose descriptions are still pending, projected
///   ones (`mcq.per_keyword` each, quoting up to four descriptions of the expected length); the answer-key verdicts
///   and blind-check answers of existing questions, and one projected of each per new Type 2 question.
enum PipelineEstimate {
    enum Part: String, CaseIterable { case filter, describe, mcq }

    static func make(_ context: CommandContext, parts: [Part], batch: Bool,
                     describe describeSettings: DescribeSettings? = nil, mcq mcqSettings: MCQSettings? = nil,
                     filter filterSettings: FilterSettings? = nil, local: String? = nil) async throws -> CostEstimate {
        // Under a local model (`llm.local`, `--local-model`) the stages are estimated as they will run: the served
        // model's name, its completion limits, nothing to pay — and no server is started.
        let plan = try LocalModelSession.plan(context, option: local)
        var llm = plan?.llm ?? LLMSettings(recipe: context.recipe)
        if let plan { llm.model = plan.alias }
        let manifest = context.workspace.manifest
        let root = context.workspace.root
        let estimator = CostEstimator(settings: llm, calibration: try TokenCalibration.load(from: manifest), batch: batch)
        var estimate = CostEstimate(batch: batch)
        let configuration = OpenAIClientConfiguration.from(llm, environment: ProcessInfo.processInfo.environment)
        func service() -> EstimatingChatService { EstimatingChatService(configuration: configuration, manifest: manifest) }

        if parts.contains(.filter) {
            var adapted = filterSettings ?? FilterSettings(recipe: context.recipe)
            plan?.adapt(&adapted, context)
            let settings = adapted
            if settings.vlmJudge || settings.relevance {
                let judges = service()
                let pipeline = FilterPipeline(
                    workspace: context.workspace, settings: settings,
                    judge: settings.vlmJudge ? VLMWatermarkJudge(service: judges, model: plan?.alias ?? settings.vlmModel ?? llm.model) : nil,
                    relevance: settings.relevance ? VLMRelevanceJudge(service: judges, model: plan?.alias ?? settings.relevanceModel ?? llm.model) : nil,
                    logger: context.logger)
                do { _ = try await pipeline.run(runner: context.runner, dryRun: true) } catch {
                    estimate.notes.append(SecretRedactor.redact("filter: the judges' requests after this error are not counted: \(error)"))
                }
                estimate.rows += estimator.rows(stage: "filter", recorded: judges.recorder.drain())
            }
        }

        // Keywords whose descriptions are still to be written, and the expected size of one description.
        var keywordsAwaitingDescriptions = Set<Int64>()
        var descriptionsPerKeyword = 1.0
        var descriptionTokens = 0.0
        if parts.contains(.describe) {
            var adapted = describeSettings ?? DescribeSettings(recipe: context.recipe, workspaceRoot: root)
            plan?.adapt(&adapted, context)
            let settings = adapted
            let writer = service()
            let stage = try DescribeStage(settings: settings, client: writer, workspaceRoot: root)
            let items = try await stage.pending(in: manifest)
            keywordsAwaitingDescriptions = Set(items.map(\.keywordID))
            if settings.modes.contains("image-grounded") {
                let bare = try await manifest.asyncRead { db in
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM keywords k WHERE NOT EXISTS (SELECT 1 FROM kept_pairs p WHERE p.keyword_id = k.id)") ?? 0
                }
                if bare > 0 {
                    estimate.notes.append("describe: \(bare) keyword(s) have no kept image (yet): no image-grounded description is counted for them")
                }
            }
            descriptionsPerKeyword = Double(items.count) / Double(max(keywordsAwaitingDescriptions.count, 1))
            try await StageRequests.walk(stage, in: manifest)
            let recorded = writer.recorder.drain()
            let rows = estimator.rows(stage: "describe", recorded: recorded)
            estimate.rows += rows
            let writers = rows.filter { $0.purpose != "describe.verify" }
            let written = writers.reduce(0) { $0 + $1.requests }
            descriptionTokens = written > 0 ? writers.reduce(0) { $0 + $1.completionTokens } / Double(written)
                : estimator.expectedCompletion(model: settings.model, purpose: "describe.\(settings.aspects.first ?? "visual")",
                                               maxCompletion: Double(settings.maxTokens)).0
            if settings.verify, written > 0 {
                // The verifier sees what the writer saw (its prompt stands in for the judge's instructions) and the text.
                let prompt = writers.reduce(0) { $0 + $1.promptTokens / Double(max($1.requests, 1)) * Double($1.requests) } / Double(written)
                let image = writers.reduce(0) { $0 + $1.imageTokens } / Double(written)
                estimate.rows.append(estimator.projected(stage: "describe", purpose: "describe.verify", model: settings.verifyModel,
                                                         count: written, prompt: prompt + descriptionTokens, image: image,
                                                         maxCompletion: Double(FaithfulnessJudge.maxTokens)))
            }
        }

        if parts.contains(.mcq) {
            var adapted = mcqSettings ?? MCQSettings(recipe: context.recipe)
            plan?.adapt(&adapted, context)
            let settings = adapted
            var newType2 = 0
            var type2Prompt = 0.0
            if settings.types.contains(2) {
                let writer = service()
                let stage = Type2Stage(settings: settings, client: writer)
                try await StageRequests.walk(stage, in: manifest)
                let rows = estimator.rows(stage: "mcq", recorded: writer.recorder.drain())
                estimate.rows += rows
                newType2 = rows.reduce(0) { $0 + $1.requests }
                if newType2 > 0 { type2Prompt = rows.reduce(0) { $0 + $1.promptTokens } / Double(newType2) }
                let described = try await manifest.asyncRead { db in
                    Set(try Int64.fetchAll(db, sql: "SELECT DISTINCT keyword_id FROM descriptions WHERE status = 'accepted'"))
                }
                // Keywords with descriptions whose split mcq has yet to draw (kept pairs without a split row): the plan
                // cannot place their questions yet; they are projected from their own descriptions.
                let unsplit = try await manifest.asyncRead { db -> [(Int64, Double)] in
                    let plan = try Type2Plan.make(settings: settings, in: db)
                    let planned = Set(plan.items.map(\.keywordID))
                    let ids = try Int64.fetchAll(db, sql: """
                        SELECT DISTINCT k.keyword_id FROM kept_pairs k
                        WHERE NOT EXISTS (SELECT 1 FROM splits s WHERE s.keyword_id = k.keyword_id AND s.image_sha256 = k.image_sha256)
                          AND EXISTS (SELECT 1 FROM descriptions d WHERE d.keyword_id = k.keyword_id AND d.status = 'accepted')
                          AND NOT EXISTS (SELECT 1 FROM questions q WHERE q.keyword_id = k.keyword_id AND q.type = 2 AND q.origin = 'generated')
                        """).filter { !planned.contains($0) }
                    return try ids.map { id in
                        let texts = try String.fetchAll(db, sql: """
                            SELECT text FROM descriptions WHERE keyword_id = ? AND status = 'accepted' AND text IS NOT NULL
                            ORDER BY aspect, mode, image_sha256, language, variant LIMIT ?
                            """, arguments: [id, Type2Plan.descriptionsPerPrompt])
                        return (id, texts.reduce(0) { $0 + TokenApproximation.tokens(in: $1) })
                    }
                }
                if !unsplit.isEmpty {
                    let prompt = unsplit.reduce(0) { $0 + $1.1 } / Double(unsplit.count) + TokenApproximation.tokens(in: Type2Stage.template(for: settings.llm))
                        + TokenApproximation.tokens(in: Type2Stage.schema) + 10
                    let count = unsplit.count * max(settings.perKeyword, 1)
                    estimate.rows.append(estimator.projected(stage: "mcq", purpose: "mcq.type2", model: settings.model, count: count,
                                                             prompt: prompt, maxCompletion: Double(Type2Stage.maxTokens(settings.llm))))
                    type2Prompt = newType2 > 0 ? type2Prompt : prompt
                    newType2 += count
                }
                let awaiting = keywordsAwaitingDescriptions.subtracting(described).count * max(settings.perKeyword, 1)
                if awaiting > 0 {
                    let quoted = min(Double(Type2Plan.descriptionsPerPrompt), descriptionsPerKeyword)
                    let prompt = TokenApproximation.tokens(in: Type2Stage.template(for: settings.llm)) + TokenApproximation.tokens(in: Type2Stage.schema)
                        + quoted * descriptionTokens + 10
                    estimate.rows.append(estimator.projected(stage: "mcq", purpose: "mcq.type2", model: settings.model, count: awaiting,
                                                             prompt: prompt, maxCompletion: Double(Type2Stage.maxTokens(settings.llm))))
                    type2Prompt = newType2 > 0 ? type2Prompt : prompt
                    newType2 += awaiting
                }
            }
            if settings.verify {
                let verifier = service()
                try await StageRequests.walk(try AnswerKeyStage(settings: settings, client: verifier, workspaceRoot: root), in: manifest)
                let rows = estimator.rows(stage: "mcq", recorded: verifier.recorder.drain())
                estimate.rows += rows
                if newType2 > 0 {
                    let rendered = rows.reduce(0) { $0 + $1.requests }
                    let prompt = rendered > 0 ? rows.reduce(0) { $0 + $1.promptTokens } / Double(rendered) : type2Prompt
                    estimate.rows.append(estimator.projected(stage: "mcq", purpose: "mcq.verify", model: settings.verifyModel,
                                                             count: newType2, prompt: prompt, maxCompletion: Double(AnswerKeyJudge.maxTokens)))
                }
                estimate.notes.append("mcq.verify: Type 1 questions not created yet are not counted (they are made without the model, then verified)")
            }
            if settings.blindCheck {
                let answerer = service()
                try await StageRequests.walk(BlindCheck(settings: settings, client: answerer), in: manifest)
                estimate.rows += estimator.rows(stage: "mcq", recorded: answerer.recorder.drain())
            }
        }
        // The client never sends a request a batch in flight holds, so those are not counted: they are paid already.
        let held = (try? await LLMCache(manifest: manifest).keysHeldByBatches().count) ?? 0
        if held > 0 {
            estimate.notes.append("\(held) request(s) held by batches in flight are not counted (submitted already): run the command with --batch to merge them, or `dsbuild batch cancel`")
        }
        return estimate
    }
}
