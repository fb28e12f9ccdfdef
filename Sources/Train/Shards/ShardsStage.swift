import Dataset
import Foundation

/// `shards` as a whole-set stage: the text and paired shards with their index (`ShardWriter`), then the exports
/// it names (`ShardExports`). Cancelled while writing shards, it stops between shards (the ones done stay and
/// are reused) and writes no export.
public struct ShardsStage: WholeSetStage {
    /// What the stage wrote.
    public struct Result: Sendable {
        public var shards: ShardSummary
        /// The export files written.
        public var exports: [String]
        /// Items the exports left out, one line each.
        public var exportProblems: [String] = []
        /// Lines about the exports that do not fail the run (stale exports removed, warnings).
        public var exportNotes: [String] = []
    }

    public let name = "shards"
    public let workspace: Workspace
    public let settings: ShardSettings
    /// Export names (`ShardExports.all`).
    public let exports: [String]

    public init(workspace: Workspace, settings: ShardSettings, exports: [String]) {
        self.workspace = workspace
        self.settings = settings
        self.exports = exports
    }

    public func run(in context: StageContext) async throws -> Result {
        let writer = ShardWriter(workspace: workspace, settings: settings, logger: context.logger,
                                 progress: context.progress)
        let shards = try await writer.write()
        try Task.checkCancellation()
        let written = exports.isEmpty
            ? ShardExports.Outcome(files: [], problems: [], notes: ShardExports.removeStale(keeping: [], in: settings.out.appendingPathComponent("exports")))
            : try ShardExports.run(exports, workspace: workspace, out: settings.out, settings: settings)
        return Result(shards: shards, exports: written.files, exportProblems: written.problems, exportNotes: written.notes)
    }

    public func counts(of result: Result) -> [String: Int] {
        ["text_records": result.shards.textRecords, "paired_samples": result.shards.pairedSamples,
         "text_shards": result.shards.textShards, "paired_shards": result.shards.pairedShards,
         "written": result.shards.written, "reused": result.shards.reused, "exports": result.exports.count,
         "export_problems": result.exportProblems.count]
    }
}
