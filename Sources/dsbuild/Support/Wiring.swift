import Dataset
import Filter
import Foundation
import Generate

/// What only the CLI can put together: parts that need two modules that may not import each other.
enum Wiring {
    /// The VLM watermark judge (Filter) over the configured chat endpoint (Generate's client); with `batch`, its
    /// requests are queued there for the Batch API.
    static func watermarkJudge(_ context: CommandContext, settings: FilterSettings, batch: BatchQueue? = nil) throws -> any WatermarkJudging {
        VLMWatermarkJudge(service: try chatClient(context, batch: batch), model: judgeModel(context, settings.vlmModel))
    }

    /// The relevance judge (Filter) over the configured chat endpoint (Generate's client); with `batch`, its
    /// requests are queued there for the Batch API.
    static func relevanceJudge(_ context: CommandContext, settings: FilterSettings, batch: BatchQueue? = nil) throws -> any RelevanceJudging {
        VLMRelevanceJudge(service: try chatClient(context, batch: batch), model: judgeModel(context, settings.relevanceModel))
    }

    /// A judge's model: the local server's when one serves this command, else the judge's own, else `llm.model`.
    static func judgeModel(_ context: CommandContext, _ own: String?) -> String {
        LocalModelSession.current?.modelName ?? own ?? LLMSettings(recipe: context.recipe).model
    }

    /// The answer-key verdicts applied as the recipe's `mcq.keep_disputed` says now (Generate's one mapping), before
    /// a command that reads the accepted questions (`shards`, `eval`): a `keep_disputed` changed in the recipe holds
    /// without an `mcq` run in between. Asks nothing; touches only the status of questions with a verdict.
    static func applyDisputes(_ context: CommandContext) throws {
        let keep = MCQSettings(recipe: context.recipe).keepDisputed
        try context.workspace.manifest.write { db in _ = try DisputedQuestions.apply(keep: keep, in: db) }
    }

    /// The OpenAI-compatible client the recipe and environment configure, cached in the workspace's manifest: the one
    /// place a command gets its model client. A stage with more requests in flight than `llm.concurrency` raises the
    /// client's limit to its own; `maxReasks` is the stage's re-asks after a reply that fails validation. With
    /// `batch` (`BatchMode.queue`), the client sends nothing: a request the cache cannot answer is queued there.
    /// `llm.budget`, when set, is kept by one meter for every client of the process (`LLMBudget`); a queued request
    /// reserves its worst case at the batch price.
    static func chatClient(_ context: CommandContext, concurrency: Int? = nil, maxReasks: Int? = nil,
                           batch: BatchQueue? = nil) throws -> OpenAIClient {
        let llm = LLMSettings(recipe: context.recipe)
        var configuration = OpenAIClientConfiguration.from(llm, environment: ProcessInfo.processInfo.environment)
        if let concurrency { configuration.limits.concurrency = max(configuration.limits.concurrency, concurrency) }
        if let maxReasks { configuration.maxReasks = max(maxReasks, 0) }
        if llm.budget.isSet {
            configuration.budget = try LLMBudget(settings: llm, manifest: context.workspace.manifest, workspace: context.workspace.root.path)
        }
        if let server = LocalModelSession.current { local(server, &configuration) }
        return OpenAIClient(configuration: configuration, cache: LLMCache(manifest: context.workspace.manifest), logger: context.logger,
                            batchQueue: batch)
    }

    /// The client's configuration for the local server this command started: its loopback URL, no key, as many
    /// requests in flight as it has slots (more would queue inside it and time out there), and a time limit a CPU
    /// writing a few tokens a second can meet; when a request cannot connect, whether the server has exited.
    static func local(_ server: LocalServer, _ configuration: inout OpenAIClientConfiguration) {
        configuration.baseURL = server.baseURL
        configuration.apiKey = nil
        configuration.limits.concurrency = server.configuration.parallel
        configuration.limits.requestsPerMinute = nil
        configuration.limits.tokensPerMinute = nil
        configuration.timeout = max(configuration.timeout, 900)
        // A server that died is named once (status and log) and stops the stage, instead of every retry of every item.
        configuration.endpointCheck = { server.exitReport }
    }
}
