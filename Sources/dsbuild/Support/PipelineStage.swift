import ArgumentParser
import Dataset
import Train

/// The stages `dsbuild run` drives, in order; each runs as its own subcommand would, against one workspace.
/// `check` comes last: the run fails when the result is not a sound experiment.
enum PipelineStage: String, CaseIterable, ExpressibleByArgument, Sendable {
    case collect, filter, describe, mcq, shards, train, eval, check

    /// The recipe's stages from `from` to `until`; train and eval only when the recipe has their sections.
    static func selected(for recipe: Recipe, from: PipelineStage?, until: PipelineStage?) -> [PipelineStage] {
        let all = allCases.filter { stage in
            switch stage {
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

    /// Runs the stage's command with the shared arguments (settings come from the stored recipe); `check`
    /// returns its report instead of printing it.
    @discardableResult
    func run(arguments: [String]) async throws -> CheckReport? {
        switch self {
        case .collect: var c = try DSBuild.Collect.parse(arguments); try await c.run()
        case .filter: var c = try DSBuild.Filter.parse(arguments); try await c.run()
        case .describe: var c = try DSBuild.Describe.parse(arguments); try await c.run()
        case .mcq: var c = try DSBuild.MCQ.parse(arguments); try await c.run()
        case .shards: var c = try DSBuild.Shards.parse(arguments); try await c.run()
        case .train: var c = try DSBuild.Train.parse(arguments); try await c.run()
        case .eval: var c = try DSBuild.Eval.parse(arguments); try await c.run()
        case .check: return try DSBuild.Check.parse(arguments).audit(echo: false)
        }
        return nil
    }
}
