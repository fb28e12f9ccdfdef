import ArgumentParser
import Dataset
import Foundation
import Generate

extension DSBuild {
    /// `dsbuild estimate [RECIPE] [--stages filter,describe,mcq] [--batch]`: the requests each pending stage would
    /// make and their tokens and price, before anything is spent (`PipelineEstimate`). Reads the workspace only.
    struct Estimate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Estimate the requests, tokens and cost of the pending model stages before spending (nothing is sent).",
            discussion: """
                Prompt tokens are dsbuild's approximation of the rendered requests (docs: TokenApproximation), calibrated \
                against the real usage stored in the workspace's request cache for the same model and purpose; image \
                tokens follow the provider's tile rule for llm.image_detail; completions are the mean the cache observed, \
                else the request's max_tokens. Prices come from llm.prices / llm.price_per_million.
                """)

        @Argument(help: "A recipe to estimate with instead of the workspace's stored one.")
        var recipe: String?

        @Option(help: "Comma-separated stages: \(PipelineEstimate.Part.allCases.map(\.rawValue).joined(separator: ", ")) (default: all).")
        var stages: String?

        @Flag(help: "Price at the Batch API's share (llm.batch_price_factor), as llm.batch does.")
        var batch = false

        @OptionGroup var local: LocalModelOption
        @OptionGroup var options: GlobalOptions

        func validate() throws {
            for stage in try stages.map({ try CommaList.parse($0, option: "--stages") }) ?? [] where PipelineEstimate.Part(rawValue: stage) == nil {
                throw ValidationError("unknown stage \"\(stage)\" for --stages: use \(PipelineEstimate.Part.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        func run() async throws {
            var context = try CommandContext.open(options, command: "estimate")
            if let recipe {
                context = context.with(recipe: try Recipe.load(contentsOf: URL(fileURLWithPath: recipe), schema: CommandContext.recipeSchema))
            }
            let parts = try stages.map { try CommaList.parse($0, option: "--stages").compactMap(PipelineEstimate.Part.init) }
                ?? PipelineEstimate.Part.allCases
            let estimate = try await PipelineEstimate.make(context, parts: parts, batch: batch || LLMSettings(recipe: context.recipe).batch,
                                                           local: local.path)
            EstimateOutput.show(estimate, options: options)
        }
    }
}

/// Prints an estimate: the table, or `--json`.
enum EstimateOutput {
    static func show(_ estimate: CostEstimate, options: GlobalOptions) {
        if options.json {
            Output.json(["estimate": estimate.json])
        } else if !options.quiet {
            print(estimate.table)
        }
    }
}
