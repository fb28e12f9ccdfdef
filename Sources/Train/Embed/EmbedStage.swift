import Dataset
import Foundation
import GRDB

/// How `dsbuild embed` runs: the recipe's `filter.embeddings.*` and the Python that runs the bridge.
public struct EmbedSettings: Sendable {
    public var embeddings: EmbeddingSettings
    /// The interpreter that runs `script` (a venv's `bin/python`).
    public var python: String
    /// The bundled trainer's `embed.py`.
    public var script: URL
    /// Test hook: a pause after each recorded batch (to kill a run midway; `DSBUILD_TEST_EMBED_DELAY_MS`).
    public var delayPerBatch: Duration = .zero

    public init(embeddings: EmbeddingSettings, python: String, script: URL) {
        self.embeddings = embeddings
        self.python = python
        self.script = script
    }

    /// The bundled trainer's `embed.py`, run by `python` (`--python`), else `train.python`, else the trainer's own
    /// environment, else `python3` — the interpreter `eval --checkpoint` uses.
    public static func make(_ embeddings: EmbeddingSettings, python: String?, train: TrainSection,
                            environment: [String: String] = ProcessInfo.processInfo.environment) throws(TrainError) -> EmbedSettings {
        let trainer = try TrainerLocation.find(explicit: nil, environment: environment)
        return EmbedSettings(embeddings: embeddings, python: python ?? train.python ?? TrainerLocation.defaultPython(in: trainer),
                             script: trainer.appendingPathComponent("embed.py"))
    }
}

/// What an embed run did.
public struct EmbedResult: Sendable {
    /// The model's id (`EmbeddingModelID`), family, vector size and vectors file.
    public var model = ""
    public var family = ""
    public var dim = 0
    public var file = ""
    public var imagesEmbedded = 0
    public var keywordsEmbedded = 0
    /// Images and keywords that had their vector before this run.
    public var imagesAlready = 0
    public var keywordsAlready = 0
    /// Recorded vectors the file no longer held (lost to a crash): computed again.
    public var repaired = 0
    /// One line per image that could not be read (naming it and why); the others were embedded.
    public var failures: [String] = []
    /// Cancelled before every batch was embedded (what was recorded stays).
    public var cutShort = false
    public var seconds = 0.0

    public var json: [String: Any] {
        ["model": model, "family": family, "dim": dim, "file": file, "interrupted": cutShort, "seconds": seconds,
         "images": ["embedded": imagesEmbedded, "already": imagesAlready, "failed": failures.count],
         "keywords": ["embedded": keywordsEmbedded, "already": keywordsAlready],
         "images_per_second": seconds > 0 ? Double(imagesEmbedded) / seconds : 0,
         "repaired": repaired, "errors": failures]
    }
}

/// `dsbuild embed` as a whole-set stage: computes what has no vector yet (`EmbedWork`), runs the bundled trainer's
/// `embed.py` once over it — the same bridge `eval --checkpoint` uses for `eval_mcq.py`: a child process that
/// answers in JSON lines — and records each batch as it arrives (`EmbeddingStore.append`: the vectors appended and
/// flushed, then their rows in one transaction). Killed or cancelled midway, the recorded batches stay and a rerun
/// embeds only what is missing. An unreadable image is one failure line; the rest go on.
public struct EmbedStage: WholeSetStage {
    public let name = "embed"
    public let workspace: Workspace
    public let settings: EmbedSettings

    public init(workspace: Workspace, settings: EmbedSettings) {
        self.workspace = workspace
        self.settings = settings
    }

    public func counts(of result: EmbedResult) -> [String: Int] {
        ["images": result.imagesEmbedded, "keywords": result.keywordsEmbedded, "images_already": result.imagesAlready,
         "keywords_already": result.keywordsAlready, "failed": result.failures.count, "repaired": result.repaired]
    }

    public func failures(in result: EmbedResult) -> [String] { result.failures }

    public func isComplete(_ result: EmbedResult) -> Bool { !result.cutShort }

    public func run(in context: StageContext) async throws -> EmbedResult {
        guard let folder = settings.embeddings.model else {
            throw EmbeddingError(.modelMissing, item: "filter.embeddings.model",
                                 "not set; set it in the recipe (or pass --model) to a local CLIP or SigLIP folder")
        }
        let started = Date()
        let id = try EmbeddingModelID.of(folder)
        let embeddings = settings.embeddings
        let existing = try context.manifest.read { db in try EmbeddingModelRecord.load(id, in: db) }
        var result = EmbedResult()
        result.model = id
        // A known model whose file lost rows is repaired before the work is counted, so the lost rows are redone.
        if let existing {
            let opened = try EmbeddingStore.open(workspace: workspace, id: id, path: folder.path, family: existing.family, dim: existing.dim)
            result.repaired = opened.repaired
            if opened.repaired > 0 {
                context.progress.message("warning: \(opened.store.url.lastPathComponent) held \(opened.repaired) vector(s) fewer than recorded; they are computed again")
            }
            (result.family, result.dim, result.file) = (existing.family, existing.dim, existing.file)
        }
        let work = try context.manifest.read { db in try EmbedWork.load(model: id, settings: embeddings, in: db) }
        result.imagesAlready = work.embeddedImages
        result.keywordsAlready = work.embeddedKeywords
        if work.isEmpty || Task.isCancelled {
            result.cutShort = !work.isEmpty
            result.seconds = Date().timeIntervalSince(started)
            return result
        }
        context.progress.start("embed", total: work.images.count + work.keywords.count)
        defer { context.progress.finish() }
        let bridge = EmbedBridge(settings: settings, folder: folder, work: work, workspace: workspace, modelID: id, progress: context.progress)
        let outcome = try await bridge.run()
        result.imagesEmbedded = outcome.images
        result.keywordsEmbedded = outcome.keywords
        result.failures = outcome.failures
        result.cutShort = outcome.interrupted
        if let record = outcome.record { (result.family, result.dim, result.file) = (record.family, record.dim, record.file) }
        result.seconds = Date().timeIntervalSince(started)
        return result
    }
}
