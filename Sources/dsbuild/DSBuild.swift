import ArgumentParser
import Dataset

/// dsbuild: builds fine-grained vision-language datasets from a list of keywords.
@main
struct DSBuild: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dsbuild",
        abstract: "Build fine-grained vision-language datasets: keywords → images → descriptions → questions → shards.",
        version: DSBuildVersion.string,
        subcommands: [
            Init.self, Collect.self, Filter.self, Embed.self, Describe.self, MCQ.self, Shards.self, Publish.self, Train.self, Eval.self,
            Status.self, Report.self, Check.self, Run.self, Estimate.self, RecipeCommand.self, Batch.self, Models.self, Review.self,
        ]
    )

    /// Ctrl-C and SIGTERM are handled from the first instruction on, before any command sets up.
    static func main() async {
        Interruption.install()
        await main(nil)
    }
}
