import Dataset
import Foundation

/// `describe`'s steps, in their one order, through the command's runner: the requests (`DescribeStage`, with
/// bounded concurrency), then near-duplicate settling over every description (`DescriptionDeduplication`), after
/// the requests and in a fixed order. Both runs record the same settings.
///
/// With `describe.verify` and both modes, the requests run in two passes, image-grounded first: a text-only
/// description is checked against the image-grounded descriptions of its keyword the verifier found faithful,
/// so those are settled before it is. A pass cut short by an interruption skips the next one.
///
/// In batch mode a pass that queued requests (`StageSummary.deferred`) ends the run there, as a kill would: the
/// next pass and the dedup run once the batch's answers are in the cache (`BatchDriver` runs it again).
///
/// Building it loads the aspects' templates (and the judge's) and throws a `ChatError(.badRequest)` naming a
/// missing or unreadable one; a fatal model error during the run is thrown too.
public struct DescribeRun: Sendable {
    public let stage: DescribeStage

    public init(settings: DescribeSettings, client: any ChatService, workspaceRoot: URL) throws {
        stage = try DescribeStage(settings: settings, client: client, workspaceRoot: workspaceRoot)
    }

    /// The describe stage's summary (both passes added up; the dedup step reports through its own `runs` row).
    public func run(with runner: StageRunner) async throws -> StageSummary {
        let settings = stage.settings
        let record = settings.runRecordJSON
        var passes: [DescribeStage] = [stage]
        if stage.verifier != nil && Set(settings.modes).isSuperset(of: DescribeSettings.modeNames) {
            passes = DescribeSettings.modeNames.map { mode in
                var pass = stage
                pass.onlyMode = mode
                return pass
            }
        }
        var summary = StageSummary(stage: stage.name)
        for pass in passes {
            let done = try await runner.run(pass, concurrency: settings.concurrency, settingsJSON: record)
            summary.pending += done.pending
            summary.failures += done.failures
            summary.seconds += done.seconds
            summary.counts.merge(done.counts, uniquingKeysWith: +)
            summary.deferred += done.deferred
            if done.interrupted { summary.interrupted = true; break }
            // Requests queued for a batch: the next pass and the dedup wait for its answers, as after a kill.
            if done.deferred > 0 { return summary }
        }
        _ = try await runner.run(DescriptionDeduplication(threshold: settings.dedupThreshold), settingsJSON: record)
        return summary
    }
}
