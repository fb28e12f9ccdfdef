import Dataset
import Filter

extension FilterPipeline {
    /// The pipeline run through a runner of the tests' own, as the CLI runs it through the command's.
    func run(progress: ProgressReporter, dryRun: Bool = false) async throws -> FilterSummary {
        try await run(runner: StageRunner(manifest: workspace.manifest, progress: progress, logger: logger), dryRun: dryRun)
    }
}
