import ArgumentParser
import Dataset
import Foundation
import Generate

extension DSBuild {
    /// `dsbuild describe [--model M] [--aspects a,b] [--modes m] [--languages l] [--per-keyword N] [--refresh]`
    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write descriptions per keyword and aspect through an OpenAI-compatible endpoint ($OPENAI_BASE_URL, $OPENAI_API_KEY).")
        @OptionGroup var options: GlobalOptions

        @Option(help: "The model (default: describe.model or llm.model of the recipe).")
        var model: String?
        @Option(help: "Comma-separated aspects: \(Aspect.promptable.joined(separator: ", ")), or a template of prompts/describe/.")
        var aspects: String?
        @Option(help: "Comma-separated modes: image-grounded, text-only.")
        var modes: String?
        @Option(help: "Comma-separated output languages (default: each keyword's language, else en).")
        var languages: String?
        @Option(help: "Descriptions per keyword, aspect and language (different seeds and temperatures).")
        var perKeyword: Int?
        @Option(help: "Requests in flight.")
        var concurrency: Int?
        @Flag(help: "Print the requests, tokens and cost this would spend (see `dsbuild estimate`) and send nothing.")
        var estimate = false
        @Flag(help: "Ask the model again instead of answering from the request cache.")
        var refresh = false
        @Flag(help: "Send requests not in the cache through the Batch API (half price, within 24 h): upload, submit, poll, merge (llm.batch).")
        var batch = false
        @OptionGroup var local: LocalModelOption

        func validate() throws {
            _ = try aspects.map { try CommaList.parse($0, option: "--aspects") }
            _ = try languages.map { try CommaList.parse($0, option: "--languages") }
            for mode in try modes.map({ try CommaList.parse($0, option: "--modes") }) ?? [] where !DescribeSettings.modeNames.contains(mode) {
                throw ValidationError("unknown mode \"\(mode)\": use \(DescribeSettings.modeNames.joined(separator: " or "))")
            }
            _ = try perKeyword.map { try DescribeSettings.countRule.checked($0, "--per-keyword") }
            _ = try concurrency.map { try LLMSettings.concurrencyRule.checked($0, "--concurrency") }
        }

        /// Defaults ← the recipe's `describe:` section ← these options (checked in `validate()`).
        func settings(_ context: CommandContext) -> DescribeSettings {
            var settings = DescribeSettings(recipe: context.recipe, workspaceRoot: context.workspace.root)
            if let model { settings.model = model }
            if let aspects { settings.aspects = Self.list(aspects) }
            if let modes { settings.modes = Self.list(modes) }
            if let languages { settings.languages = Self.list(languages) }
            if let perKeyword { settings.perKeyword = perKeyword }
            if let concurrency { settings.concurrency = concurrency }
            settings.refresh = refresh
            return settings
        }

        func run() async throws {
            // An estimate only reads: it takes no lock, so it works while another command runs.
            let context = try CommandContext.open(options, command: estimate ? "estimate" : "describe")
            var settings = settings(context)
            if estimate {
                EstimateOutput.show(try await PipelineEstimate.make(context, parts: [.describe], batch: batch || LLMSettings(recipe: context.recipe).batch, describe: settings, local: local.path), options: options)
                return
            }
            let plan = try LocalModelSession.plan(context, option: local.path)
            plan?.adapt(&settings, context)
            if settings.modes.isEmpty {
                if !options.quiet { print("describe: nothing to do (no mode left)") }
                return
            }
            let finalSettings = settings
            // Under a local model with nothing left to write, no server is started (the rerun of a finished describe).
            var needsModel = true
            if plan != nil, LocalModelSession.current == nil {
                let probe = EstimatingChatService(configuration: OpenAIClientConfiguration.from(settings.llm, environment: ProcessInfo.processInfo.environment),
                                                  manifest: context.workspace.manifest)
                needsModel = !(try await DescribeStage(settings: finalSettings, client: probe, workspaceRoot: context.workspace.root)
                    .pending(in: context.workspace.manifest).isEmpty)
            }
            try await LocalModelSession.serving(context, plan: plan, needsModel: needsModel, command: "describe", batch: batch) {
                try await run(context, settings: finalSettings)
            }
        }

        private func run(_ context: CommandContext, settings: DescribeSettings) async throws {
            let queue = try BatchMode.queue(context, flag: batch)
            let client = try Wiring.chatClient(context, concurrency: settings.concurrency, maxReasks: settings.maxAttempts - 1, batch: queue)
            let describe = try DescribeRun(settings: settings, client: client, workspaceRoot: context.workspace.root)
            let runner = context.runner
            let summary: StageSummary
            let batchReport: BatchReport?
            do {
                (summary, batchReport) = try await BatchMode.run(context, queue: queue) { try await describe.run(with: runner) }
            } catch let error as ChatError {
                Output.error("describe stopped: \(error.description)")
                if options.json { Output.json(["stopped": error.description, "llm": client.ledger.totals.json]) }
                throw ExitCode(2)
            } catch let error as BatchError {
                Output.error("describe stopped: \(error.description)")
                if options.json { Output.json(["stopped": error.description]) }
                throw ExitCode(2)
            }
            let unanswered = BatchMode.finish(batchReport, command: "describe", options: options)
            let totals = client.ledger.totals
            if options.json {
                Output.json(["pending": summary.pending, "counts": summary.counts, "failures": summary.failures,
                             "interrupted": summary.interrupted, "seconds": summary.seconds, "model": settings.model,
                             "verify_model": settings.verify ? settings.verifyModel : NSNull(), "llm": totals.json,
                             "batch": batchReport?.json ?? NSNull()])
            } else if !options.quiet {
                let counts = summary.counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                print("describe: \(summary.pending) to do — \(counts.isEmpty ? "nothing" : counts)")
                var line = "llm: \(totals.requests) requests, \(totals.cacheHits) from cache, \(totals.retries) retries, \(totals.promptTokens)+\(totals.completionTokens) tokens"
                if let cost = totals.cost { line += String(format: ", $%.4f", cost) }
                print(line)
            }
            try Interruption.exitIfInterrupted("describe")
            if summary.failures > 0 || summary.interrupted || unanswered { throw ExitCode(1) }
        }

        static func list(_ text: String) -> [String] {
            text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
    }
}
