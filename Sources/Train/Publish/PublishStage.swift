import Dataset
import Foundation

/// Settings of one `dsbuild publish` run.
public struct PublishSettings: Sendable {
    public var section: PublishSection
    /// The release folder (absolute).
    public var out: URL
    /// The records, split and image settings of the shards (`shards:`), with `--resize`/`--image-size` applied.
    public var shards: ShardSettings
    /// The dataset's name when `publish.pretty_name` is unset (the recipe's `name`).
    public var name: String
    /// The interpreter with pyarrow that runs `trainer/parquet_write.py`.
    public var python: String
    public var script: URL
    /// Test hook: a pause after each rendered image (to kill a run midway; `DSBUILD_TEST_PUBLISH_DELAY_MS`).
    public var delayPerImage: Duration = .zero

    public init(section: PublishSection, out: URL, shards: ShardSettings, name: String, python: String, script: URL) {
        self.section = section
        self.out = out
        self.shards = shards
        self.name = name
        self.python = python
        self.script = script
    }

    /// The bundled trainer's `parquet_write.py`, run by `python` (`--python`), else `train.python`, else the
    /// trainer's own environment, else `python3` — as `embed` finds its interpreter.
    public static func bridge(python: String?, train: TrainSection,
                              environment: [String: String] = ProcessInfo.processInfo.environment) throws(TrainError) -> (python: String, script: URL) {
        let trainer = try TrainerLocation.find(explicit: nil, environment: environment)
        return (python ?? train.python ?? TrainerLocation.defaultPython(in: trainer), trainer.appendingPathComponent("parquet_write.py"))
    }
}

/// What a publish wrote.
public struct PublishResult: Sendable {
    public var out: URL
    /// Rows per `config/split`.
    public var rows: [String: Int] = [:]
    public var files: [String] = []
    public var parquetWritten = 0
    public var parquetKept = 0
    public var imagesPublished = 0
    public var imagesLeftOut = 0
    public var license = ""
    /// One line per image that could not be rendered.
    public var failures: [String] = []

    public var json: [String: Any] {
        ["out": out.path, "rows": rows, "files": files, "parquet_written": parquetWritten, "parquet_kept": parquetKept,
         "images_published": imagesPublished, "images_left_out": imagesLeftOut, "license": license, "failures": failures]
    }
}

/// `publish` as a whole-set stage: the release folder from the manifest — the three configs as parquet (through
/// the bundled Python's pyarrow), the dataset card, the attribution files and `croissant.json`. The records are the
/// shards' (`ShardSampleBuilder`) and the images leave through the shards' renderer, so nothing derived from a test
/// image enters a training config. Rerun on the same manifest it writes the same bytes, and rewrites only the
/// parquet files whose rows changed.
public struct PublishStage: WholeSetStage {
    public let name = "publish"
    public let workspace: Workspace
    public let settings: PublishSettings

    public init(workspace: Workspace, settings: PublishSettings) {
        self.workspace = workspace
        self.settings = settings
    }

    public func run(in context: StageContext) async throws -> PublishResult {
        let fm = FileManager.default
        let out = settings.out
        let section = settings.section
        let writer = ShardWriter(workspace: workspace, settings: settings.shards)
        let renderer = writer.renderer
        let inputs = try ShardSampleBuilder.build(workspace.manifest, options: writer.builderOptions)
        let train = PublishRows.trainable(try EvalStore.questions(in: workspace, split: "train"), inputs: inputs)
        let test = try EvalStore.questions(in: workspace, split: "test")
        guard !inputs.paired.isEmpty || !inputs.text.isEmpty || !test.isEmpty else {
            throw PublishError(.noData, item: workspace.root.path, "nothing to publish: no kept image, text or question; run collect, filter, describe and mcq first")
        }
        try Task.checkCancellation()

        // Images: the licence weighed first, then the published ones rendered and staged.
        let origins = try workspace.manifest.read { db in try ImageProvenance.load(in: db) }
        var images = PublishedImages(uses: PublishRows.imageUses(inputs: inputs, train: train, test: test), origins: origins,
                                     renderer: renderer, commercial: section.commercial)
        let staging = out.appendingPathComponent(".staging")
        defer { try? fm.removeItem(at: staging) }
        context.progress.start("publish", total: images.published.count)
        try images.render(with: renderer, workspace: workspace, staging: staging.appendingPathComponent("images"), progress: context.progress, delay: settings.delayPerImage)
        context.progress.finish()
        try Task.checkCancellation()

        // Rows and parquet files.
        let rows = PublishRows(inputs: inputs, trainQuestions: train, testQuestions: test, images: images, layout: section.layout)
        let tables = rows.tables()
        let files = tables.flatMap { PublishFile.files(of: $0, maxBytes: section.fileBytes) }
        let bridge = ParquetBridge(python: settings.python, script: settings.script, folder: out, staging: staging)
        try fm.createDirectory(at: out, withIntermediateDirectories: true)
        let parquet = try bridge.write(files, imageHashes: images.writtenHashes)
        removeStaleParquet(keeping: Set(files.map(\.path)), configs: tables.map(\.config))

        // Attribution, card, Croissant.
        let title = section.prettyName ?? settings.name
        try write(Attribution.csv(images), "ATTRIBUTION.csv")
        try write(Attribution.excludedCSV(images), "ATTRIBUTION_EXCLUDED.csv")
        try write(Attribution.markdown(images, title: title), "ATTRIBUTION.md")
        let facts = try CardFacts.load(workspace.manifest)
        let counts = tables.flatMap { t in t.splits.map { (config: t.config, split: $0.name, rows: $0.rows.count) } }
        let languages = !section.languages.isEmpty ? section.languages : (facts.keywordLanguages.isEmpty ? ["en"] : facts.keywordLanguages)
        let summary = "A fine-grained vision-language dataset of \(facts.status.keywords) keywords: \(images.published.count) images with "
            + "model-written descriptions and multiple-choice questions, built with dsbuild."
        let card = DatasetCard(title: title, summary: summary, languages: languages, counts: counts, tables: tables, facts: facts,
                               images: images, layout: section.layout, commercial: section.commercial, citation: section.citation,
                               imageSettings: settings.shards.images)
        let cardURL = out.appendingPathComponent("README.md")
        let existing = try? String(contentsOf: cardURL, encoding: .utf8)
        try write(Data(card.render(existing: existing).utf8), "README.md")

        var described: [(path: String, format: String, sha256: String)] = []
        for file in files { described.append((file.path, CroissantMetadata.parquet, try sha256(of: file.path))) }
        for (path, format) in [("README.md", "text/markdown"), ("ATTRIBUTION.csv", "text/csv"), ("ATTRIBUTION.md", "text/markdown"),
                               ("ATTRIBUTION_EXCLUDED.csv", "text/csv")] {
            described.append((path, format, try sha256(of: path)))
        }
        var deeds = Set(images.published.compactMap(\.terms.url)).sorted()
        if deeds.isEmpty { deeds = ["ATTRIBUTION.md"] }
        let croissant = CroissantMetadata(title: title, description: summary, url: section.url,
                                          citation: section.citation ?? "\(title), built with dsbuild \(DSBuildVersion.string)", version: section.version,
                                          licenses: deeds, files: described, tables: tables, facts: facts, imageSettings: settings.shards.images)
        try write(try croissant.data(), "croissant.json")

        var result = PublishResult(out: out)
        for c in counts { result.rows["\(c.config)/\(c.split)"] = c.rows }
        result.files = described.map(\.path) + ["croissant.json"]
        result.parquetWritten = parquet.written
        result.parquetKept = parquet.kept
        result.imagesPublished = images.published.count
        result.imagesLeftOut = images.refused.count
        result.license = card.license
        result.failures = images.failures
        return result
    }

    private func write(_ data: Data, _ name: String) throws {
        let url = settings.out.appendingPathComponent(name)
        if (try? Data(contentsOf: url)) == data { return }
        try AtomicFile.write(data, to: url)
    }

    private func sha256(of path: String) throws -> String {
        let url = settings.out.appendingPathComponent(path)
        guard let data = try? Data(contentsOf: url, options: .alwaysMapped) else {
            throw PublishError(.write, item: url.path, "was not written")
        }
        return ContentHash.sha256Hex(data)
    }

    /// Parquet files of an earlier publish (more files, another layout) leave the config folders; their plans too.
    private func removeStaleParquet(keeping: Set<String>, configs: [String]) {
        let fm = FileManager.default
        for config in configs {
            let dir = settings.out.appendingPathComponent(config)
            for name in (try? fm.contentsOfDirectory(atPath: dir.path)) ?? [] where !keeping.contains("\(config)/\(name)") {
                try? fm.removeItem(at: dir.appendingPathComponent(name))
                try? fm.removeItem(at: settings.out.appendingPathComponent(".progress/\(config)__\(name).plan"))
            }
        }
    }

    public func counts(of result: PublishResult) -> [String: Int] {
        var counts = ["images_published": result.imagesPublished, "images_left_out": result.imagesLeftOut,
                      "parquet_written": result.parquetWritten, "parquet_kept": result.parquetKept]
        for (key, n) in result.rows { counts["rows_" + key.replacingOccurrences(of: "/", with: "_")] = n }
        return counts
    }

    public func failures(in result: PublishResult) -> [String] { result.failures }
}
