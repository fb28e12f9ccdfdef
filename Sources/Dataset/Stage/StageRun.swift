import Logging

/// The run a stage's work belongs to: its row in `runs`. The runner starts the row and hands the run to the
/// stage (`Stage.record`, `WholeSetStage.run`), so no stage ever looks its run up.
public struct StageRun: Sendable, Hashable {
    /// The `runs` row id.
    public let id: Int64
    /// The command the row names (`download`, `duplicates`…).
    public let command: String

    public init(id: Int64, command: String) {
        self.id = id
        self.command = command
    }
}

/// What a whole-set stage works with: the manifest, the progress display, the logger and its run.
public struct StageContext: Sendable {
    public let manifest: Manifest
    public let progress: ProgressReporter
    public let logger: Logger
    public let run: StageRun

    public init(manifest: Manifest, progress: ProgressReporter, logger: Logger, run: StageRun) {
        self.manifest = manifest
        self.progress = progress
        self.logger = logger
        self.run = run
    }
}
