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
    public static func bridge(python: String?, trainer explicit: String? = nil, train: TrainSection,
                              environment: [String: String] = ProcessInfo.processInfo.environment) throws(TrainError) -> (python: String, script: URL) {
        let trainer = try TrainerLocation.find(explicit: explicit, environment: environment)
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
    /// Text records left out because the image they were written from is.
    public var textsLeftOut = 0
    /// One line per image that could not be rendered.
    public var failures: [String] = []
    /// One line per input the card leaves out (a keyword language that is no language code); not a failure.
    public var notes: [String] = []

    public var json: [String: Any] {
        ["out": out.path, "rows": rows, "files": files, "parquet_written": parquetWritten, "parquet_kept": parquetKept,
         "images_published": imagesPublished, "images_left_out": imagesLeftOut, "texts_left_out": textsLeftOut, "license": license,
         "failures": failures, "notes": notes]
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

        // The folder: checked (never the workspace, the shards or a user's folder), marked and locked first.
        let release = try ReleaseFolder(url: out, workspace: workspace.root, shards: settings.shards.out)
        let folder = release.url

        // Images: the licence weighed first, then the published ones rendered and staged.
        let origins = try workspace.manifest.read { db in try ImageProvenance.load(in: db) }
        var images = PublishedImages(uses: PublishRows.imageUses(inputs: inputs, train: train, test: test), origins: origins,
                                     renderer: renderer, commercial: section.commercial)
        let staging = folder.appendingPathComponent(".staging")
        defer { try? fm.removeItem(at: staging) }
        context.progress.start("publish", total: images.published.count)
        try images.render(with: renderer, workspace: workspace, staging: staging.appendingPathComponent("images"), progress: context.progress, delay: settings.delayPerImage)
        context.progress.finish()
        try Task.checkCancellation()

        // Rows and parquet files; a config or split without rows is not written (a 0-row parquet breaks readers).
        let rows = PublishRows(inputs: inputs, trainQuestions: train, testQuestions: test, images: images, layout: section.layout)
        let textsLeftOut = PublishRows.leftOutTexts(inputs, images: images).count
        let allTables = rows.tables()
        let counts = allTables.flatMap { t in t.splits.map { (config: t.config, split: $0.name, rows: $0.rows.count) } }
        let tables = allTables.map { t in
            var t = t
            t.splits = t.splits.filter { !$0.rows.isEmpty }
            return t
        }.filter { !$0.splits.isEmpty }
        guard !tables.isEmpty else {
            throw PublishError(.noData, item: workspace.root.path,
                               "nothing to publish: every row's image is left out (\(images.refused.count) for their licence, \(images.failures.count) unreadable); see the lines above")
        }
        let emptySplits = counts.filter { $0.rows == 0 }.map { "\($0.config)/\($0.split)" }
        let files = tables.flatMap { PublishFile.files(of: $0, maxBytes: section.fileBytes) }
        let bridge = ParquetBridge(python: settings.python, script: settings.script, folder: folder, staging: staging)
        let parquet = try bridge.write(files, imageHashes: images.writtenHashes, release: release)

        // Attribution, card, Croissant.
        let title = section.prettyName ?? settings.name
        try release.write(Attribution.csv(images), "ATTRIBUTION.csv")
        try release.write(Attribution.excludedCSV(images), "ATTRIBUTION_EXCLUDED.csv")
        try release.write(Attribution.markdown(images, title: title), "ATTRIBUTION.md")
        let facts = try CardFacts.load(workspace.manifest)
        var notes: [String] = []
        let keywordLanguages = facts.keywordLanguages.filter { code in
            if PublishSection.isLanguageCode(code) { return true }
            notes.append("publish: keyword language \(String(reflecting: code)) is not a language code (BCP 47: en, ko, pt-BR): left out of the card's languages")
            return false
        }
        let languages = !section.languages.isEmpty ? section.languages : (keywordLanguages.isEmpty ? ["en"] : keywordLanguages)
        let summary = "A fine-grained vision-language dataset of \(facts.status.keywords) keywords: \(images.published.count) images with "
            + "model-written descriptions and multiple-choice questions, built with dsbuild."
        var card = DatasetCard(title: title, summary: summary, languages: languages, counts: counts, tables: tables, facts: facts,
                               images: images, layout: section.layout, commercial: section.commercial, citation: section.citation,
                               imageSettings: settings.shards.images)
        card.emptySplits = emptySplits
        card.textsLeftOut = textsLeftOut
        let existing = try? String(contentsOf: folder.appendingPathComponent("README.md"), encoding: .utf8)
        try release.write(Data(card.render(existing: existing).utf8), "README.md")

        var described: [(path: String, format: String, sha256: String)] = []
        for file in files { described.append((file.path, CroissantMetadata.parquet, release.written[file.path]?.sha256 ?? "")) }
        for (path, format) in [("README.md", "text/markdown"), ("ATTRIBUTION.csv", "text/csv"), ("ATTRIBUTION.md", "text/markdown"),
                               ("ATTRIBUTION_EXCLUDED.csv", "text/csv")] {
            described.append((path, format, release.written[path]?.sha256 ?? ""))
        }
        var deeds = Set(images.published.compactMap(\.terms.url)).sorted()
        if deeds.isEmpty { deeds = ["ATTRIBUTION.md"] }
        let croissant = CroissantMetadata(title: title, description: summary, url: section.url,
                                          citation: section.citation ?? "\(title), built with dsbuild \(DSBuildVersion.string)", version: section.version,
                                          licenses: deeds, files: described, tables: tables, facts: facts, imageSettings: settings.shards.images)
        try release.write(try croissant.data(), "croissant.json")
        try release.finish()

        var result = PublishResult(out: folder)
        for c in counts { result.rows["\(c.config)/\(c.split)"] = c.rows }
        result.files = described.map(\.path) + ["croissant.json"]
        result.parquetWritten = parquet.written
        result.parquetKept = parquet.kept
        result.imagesPublished = images.published.count
        result.imagesLeftOut = images.refused.count
        result.textsLeftOut = textsLeftOut
        result.license = card.license
        result.failures = images.failures
        result.notes = notes
        return result
    }

    public func counts(of result: PublishResult) -> [String: Int] {
        var counts = ["images_published": result.imagesPublished, "images_left_out": result.imagesLeftOut,
                      "parquet_written": result.parquetWritten, "parquet_kept": result.parquetKept]
        for (key, n) in result.rows { counts["rows_" + key.replacingOccurrences(of: "/", with: "_")] = n }
        return counts
    }

    public func failures(in result: PublishResult) -> [String] { result.failures }
}
