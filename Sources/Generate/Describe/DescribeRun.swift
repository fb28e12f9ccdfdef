import Dataset
import Foundation

/// `describe`'s steps, in their one order, through the command's runner: the requests (`DescribeStage`, with
/// bounded concurrency), then near-duplicate settling over every description (`DescriptionDeduplication`), after
/// the requests and in a fixed order. Both runs record the same settings.
///
/// Building it loads the aspects' templates and throws a `ChatError(.badRequest)` naming a missing one; a fatal
/// model error during the run is thrown too.
public struct DescribeRun: Sendable {
    public let stage: DescribeStage

    public init(settings: DescribeSettings, client: any ChatService, workspaceRoot: URL) throws {
        stage = try DescribeStage(settings: settings, client: client, workspaceRoot: workspaceRoot)
    }

    /// The describe stage's summary (the dedup step reports through its own `runs` row).
    public func run(with runner: StageRunner) async throws -> StageSummary {
        let settings = stage.settings
        let record = settings.runRecordJSON
        let summary = try await runner.run(stage, concurrency: settings.concurrency, settingsJSON: record)
        _ = try await runner.run(DescriptionDeduplication(threshold: settings.dedupThreshold), settingsJSON: record)
        return summary
    }
}
