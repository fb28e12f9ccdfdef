import ArgumentParser
import Dataset
import Train

/// The stages `dsbuild run` drives, in order; each runs as its own subcommand would, against one workspace.
/// `check` comes last: the run fails when the result is not a sound experiment.
enum PipelineStage: String, CaseIterable, ExpressibleByArgument, Sendable {
    case collect, embed, filter, describe, mcq, shards, train, eval, check

    /// The recipe's stages from `from` to `until`; embed only when the recipe names an embedding model (before the
    /// filter, whose `clip_rank` and `semantic_duplicates` read the vectors); train and eval only when the recipe
    /// has their sections.
    static func selected(for recipe: Recipe, from: PipelineStage?, until: PipelineStage?) -> [PipelineStage] {
        let all = allCases.filter { stage in
            switch stage {
            case .embed: return recipe.value("filter.embeddings.model") != nil
            case .train: return recipe.value("train") != nil
            case .eval: return recipe.value("eval") != nil
            default: return true
            }
        }
        let start = from.flatMap { f in allCases.firstIndex(of: f) } ?? 0
        let end = until.flatMap { u in allCases.firstIndex(of: u) } ?? allCases.count - 1
        return all.filter { stage in
            let index = allCases.firstIndex(of: stage)!
            return index >= start && index <= end
        }
    }

    /// The stages whose command takes `--batch` (their model requests can go through the Batch API).
    var takesBatch: Bool { [.filter, .describe, .mcq].contains(self) }

    /// Runs the stage's command with the shared arguments (settings come from the stored recipe); `check`
    /// returns its report instead of printing it.
    @discardableResult
    func run(arguments: [String]) async throws -> CheckReport? {
        switch self {
        case .collect: try await DSBuild.Collect.parse(arguments).run()
        case .embed: try await DSBuild.Embed.parse(arguments).run()
        case .filter: try await DSBuild.Filter.parse(arguments).run()
        case .describe: try await DSBuild.Describe.parse(arguments).run()
        case .mcq: try await DSBuild.MCQ.parse(arguments).run()
        case .shards: try await DSBuild.Shards.parse(arguments).run()
        case .train: try await DSBuild.Train.parse(arguments).run()
        case .eval: try await DSBuild.Eval.parse(arguments).run()
        case .check: return try DSBuild.Check.parse(arguments).audit(echo: false)
        }
        return nil
    }
}
