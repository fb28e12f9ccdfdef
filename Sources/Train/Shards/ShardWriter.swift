import Dataset
import Foundation
import Imaging
import Logging

/// Settings of one `dsbuild shards` run.
public struct ShardSettings: Sendable {
    public enum Compression: String, Sendable, CaseIterable { case none, gzip, zstd }

    public var out: URL
    /// Paired samples per tar (at most); text records per JSONL file (at most) is `textShardSize`.
    public var shardSize = 500
    public var textShardSize = 10_000
    /// A shard is closed before it would pass this many bytes (unless it is empty).
    public var shardBytes = 256 << 20
    public var compression: Compression = .none
    /// How images are written: resize (nil: none — an upright image already in the dataset's format is copied
    /// byte for byte), the one format of the dataset, the background alpha is flattened onto.
    public var images = ImageOutputSettings()
    /// Shorthand for `images.resize`.
    public var resize: ImageTransformRequest? {
        get { images.resize }
        set { images.resize = newValue }
    }
    public var novelFraction = 0.0
    public var seed = 0
    /// The workspace recipe (secrets never in it), recorded in the index.
    public var recipeJSON = "{}"
    /// The split to make when the workspace has none stored yet (the recipe's `mcq.*` keys); a stored split is
    /// always used as it is, and its settings are what the index records.
    public var split = SplitSettings()
    /// `filter.duplicates.phash_distance`: images this close to a test image are held out with it.
    public var phashDistance = 8
    /// `filter.embeddings.model` and `filter.semantic_duplicates.threshold`: images whose embeddings meet a test
    /// image's at this cosine are held out with it too (nil: no embedding model configured).
    public var semantic: SemanticMatch?
    /// Test hook: sleep this long after each paired sample (to kill a run mid-shard).
    public var delayPerSample: Duration = .zero
    /// Records are built a page of keywords at a time, about this many kept pairs a page (a keyword is never
    /// split): it bounds memory, never the output — any value writes the same bytes.
    public var pagePairs = 4096
    /// `shards.parquet`: the img2dataset/NeMo parquet and stats beside each paired tar (`Img2DatasetSidecars`).
    public var parquet: ParquetMode = .auto
    /// The Python that writes the parquet (`train.python`, else the trainer's own environment); nil: found from the
    /// bundled trainer's folder.
    public var python: String?
    /// How the `openai` export splits its files and holds out a validation part (`shards.openai.*`).
    public var openAI = OpenAIExportSettings()

    public init(out: URL) { self.out = out }
}

/// What a run wrote.
public struct ShardSummary: Sendable {
    public var textRecords = 0
    public var pairedSamples = 0
    public var byKind: [String: Int] = [:]
    public var textShards = 0
    public var pairedShards = 0
    public var written = 0
    public var reused = 0
    /// img2dataset sidecar files (parquet, stats) written this run, for new shards and repaired ones alike.
    public var sidecarsWritten = 0
    public var novelKeywords: [String] = []
    public var excludedTestQuestions = 0
    public var excludedTestImages = 0
    public var excludedNearDuplicatesOfTest = 0
    /// Of those, the ones only their embeddings matched (nil: no embedding model configured).
    public var excludedSemanticDuplicatesOfTest: Int?
    /// Image counts over the distinct images of the paired shards (`copied`, `reencoded_for_orientation`, …).
    public var imageCounts: [String: Int] = [:]
    public var fingerprint = ""
    public var index: URL
    /// Why the img2dataset parquet was left out (`shards.parquet: auto` without pyarrow); nil when written or off.
    public var parquetSkipped: String?

    public var json: [String: Any] {
        var json: [String: Any] = [
            "text": textRecords, "paired": pairedSamples, "by_kind": byKind, "text_shards": textShards,
            "paired_shards": pairedShards, "written": written, "reused": reused, "sidecars_written": sidecarsWritten, "novel_keywords": novelKeywords,
            "excluded_test_questions": excludedTestQuestions, "excluded_test_images": excludedTestImages,
            "excluded_near_duplicates_of_test": excludedNearDuplicatesOfTest, "images": imageCounts,
            "fingerprint": fingerprint, "index": index.path]
        if let semantic = excludedSemanticDuplicatesOfTest { json["excluded_semantic_duplicates_of_test"] = semantic }
        if let parquetSkipped { json["parquet_skipped"] = parquetSkipped }
        return json
    }
}

public struct ShardError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable { case noData = "no_data", missingImage = "missing_image", write }
    public let code: Code
    public let message: String
    public init(_ code: Code, _ message: String) { self.code = code; self.message = message }
    public var description: String { message }
}

/// Writes text-only JSONL shards, paired WebDataset tars and the `shards.json` index (docs/shard-format.md).
///
/// The pending work is "every planned shard whose file is not already there from the same plan": the plan
/// (which records go in which shard) is a pure function of the manifest and the settings, each finished shard
/// is renamed into place whole, and a marker with the plan's hash is written beside it. A killed run rerun
/// writes only the missing shards; the output is byte-identical to an uninterrupted run.
///
/// It streams: records are built a page of keywords at a time (`ShardSampleBuilder.stream`) into an external sort
/// (`ShardRecordSort`), planned in id/key order one record at a time (`ShardPlanner`), and each shard that must be
/// written is read back alone. Memory holds one page, one shard and the plans, not the records of the workspace.
public struct ShardWriter: Sendable {
    public let workspace: Workspace
    public let settings: ShardSettings
    public let logger: Logger
    public let progress: ProgressReporter

    public init(workspace: Workspace, settings: ShardSettings,
                logger: Logger = Logger(label: "dsbuild.shards"), progress: ProgressReporter = ProgressReporter(style: .quiet)) {
        self.workspace = workspace
        self.settings = settings
        self.logger = logger
        self.progress = progress
    }

    struct Planned {
        enum Kind: String { case text, paired }
        var kind: Kind
        var file: String
        /// Positions in the sorted records of its kind.
        var range: Range<Int>
        /// Where its first record lies in the sort.
        var first: SortPosition
        var planHash: String
    }

    struct Marker: Codable {
        var plan: String
        var sha256: String
        var bytes: Int
        var samples: Int
        /// A paired shard's img2dataset files, once written (nil: still to write).
        var parquet: Img2DatasetSidecars.FileEntry?
        var stats: Img2DatasetSidecars.FileEntry?
    }

    /// The sidecar writer of this run: the Python and script of the bundled trainer, when they can be found.
    func makeSidecars() -> Img2DatasetSidecars {
        let trainer = try? TrainerLocation.find(explicit: nil)
        let python = settings.python ?? trainer.map { TrainerLocation.defaultPython(in: $0) }
        return Img2DatasetSidecars(mode: settings.parquet, python: python,
                                   script: trainer?.appendingPathComponent("shard_parquet.py"), workspace: workspace)
    }

    var renderer: ImageRenderer { ImageRenderer(workspace: workspace, settings: settings.images) }

    var builderOptions: ShardSampleBuilder.Options {
        .init(novelFraction: settings.novelFraction, seed: settings.seed, split: settings.split, phashDistance: settings.phashDistance,
              semantic: settings.semantic, pagePairs: settings.pagePairs)
    }

    public func write() async throws -> ShardSummary {
        let out = settings.out
        let fm = FileManager.default
        let markers = out.appendingPathComponent(".progress")
        let dirs = [out, out.appendingPathComponent("text"), out.appendingPathComponent("paired"), markers]
        let made = dirs.filter { !fm.fileExists(atPath: $0.path) }
        for dir in dirs {
            try fm.createDirectory(at: dir, withIntermediateDirectories: true)
            AtomicFile.removeStaleTemporaries(in: dir)
        }

        // Build every record into the sort, a page of keywords at a time.
        let sort = try ShardRecordSort(at: markers.appendingPathComponent("records.sqlite"))
        defer { sort.remove() }
        let renderer = self.renderer
        var summary = ShardSummary(index: out.appendingPathComponent("shards.json"))
        let totals = try ShardSampleBuilder.stream(workspace.manifest, options: builderOptions) { page in
            summary.textRecords += page.text.count
            summary.pairedSamples += page.paired.count
            for r in page.text { summary.byKind[r.kind, default: 0] += 1 }
            for s in page.paired { summary.byKind[s.kind, default: 0] += 1 }
            try sort.add(text: page.text.map { (id: $0.id, line: $0.line()) },
                         paired: page.paired.map { s in
                             (sample: s, plan: Data(("|" + JSONText.encodeObject(s.planJSON(reasons: renderer.reasons(s.image))) + s.text + s.imageSHA256).utf8),
                              size: s.image.bytes + s.text.utf8.count + 4096)
                         })
        }
        if summary.textRecords == 0 && summary.pairedSamples == 0 {
            // As if nothing had been started: the folders this run made go again.
            sort.remove()
            for dir in made.reversed() { try? fm.removeItem(at: dir) }
            throw ShardError(.noData, "nothing to shard: the workspace has no kept images, accepted descriptions or train-split questions; run filter, describe and mcq first")
        }

        let plans = try planText(sort) + planPaired(sort)
        summary.novelKeywords = totals.novelKeywords
        summary.excludedTestQuestions = totals.excludedTestQuestions
        summary.excludedTestImages = totals.exclusions.testImages
        summary.excludedNearDuplicatesOfTest = totals.exclusions.nearDuplicatesOfTest
        summary.excludedSemanticDuplicatesOfTest = totals.exclusions.semanticDuplicatesOfTest
        summary.imageCounts = ImageRenderer.counts(try sort.imageGroups(), renderer: renderer)

        progress.start("shards", total: plans.count)
        var entries: [Planned.Kind: [[String: Any]]] = [:]
        let renders = RenderedImages()
        let sidecars = makeSidecars()
        defer { sidecars.close() }
        var sidecarFiles = Set<String>()
        for plan in plans {
            try Task.checkCancellation()
            let url = out.appendingPathComponent(plan.file)
            let markerURL = markers.appendingPathComponent(plan.file.replacingOccurrences(of: "/", with: "-") + ".json")
            var marker: Marker? = nil
            if let old = JSONText.decode(Marker.self, from: try? String(contentsOf: markerURL, encoding: .utf8)),
               old.plan == plan.planHash,
               let size = (try? fm.attributesOfItem(atPath: url.path))?[.size] as? Int, size == old.bytes,
               (try? ContentHash.sha256Hex(fileAt: url)) == old.sha256 {
                marker = old
                summary.reused += 1
            }
            if marker == nil {
                try? fm.removeItem(at: markerURL)
                let data: Data
                switch plan.kind {
                case .text: data = try encodeText(sort.textLines(from: plan.first, count: plan.range.count))
                case .paired: data = try await encodeTar(sort.pairedSamples(from: plan.first, count: plan.range.count), renderer: renderer, renders: renders)
                }
                try AtomicFile.write(data, to: url)
                let made = Marker(plan: plan.planHash, sha256: ContentHash.sha256Hex(data), bytes: data.count, samples: plan.range.count)
                try AtomicFile.write(Data(JSONText.encode(made).utf8), to: markerURL)
                marker = made
                summary.written += 1
                logger.debug("wrote shard", metadata: ["shard.file": "\(plan.file)", "shard.samples": "\(plan.range.count)"])
            }
            if plan.kind == .paired, let before = marker {
                // The parquet and stats: made from the tar (whole on disk now), recorded in its marker once written.
                let after = try sidecars.complete(before, tar: plan.file, in: out)
                if after.parquet != before.parquet || after.stats != before.stats {
                    try AtomicFile.write(Data(JSONText.encode(after).utf8), to: markerURL)
                    marker = after
                }
            }
            var entry: [String: Any] = ["file": plan.file, "samples": marker!.samples, "bytes": marker!.bytes, "sha256": marker!.sha256]
            // The sidecars there now (a parquet an earlier run wrote stays listed when this run cannot write one).
            if sidecars.mode != .off {
                for (name, file) in [("parquet", marker!.parquet), ("stats", marker!.stats)] {
                    guard let file, Img2DatasetSidecars.present(file, in: out) else { continue }
                    entry[name] = file.json
                    sidecarFiles.insert(file.file)
                }
            }
            entries[plan.kind, default: []].append(entry)
            progress.advance()
        }
        progress.finish()
        sort.remove()

        summary.sidecarsWritten = sidecars.filesWritten
        if let skipped = sidecars.skipped { summary.parquetSkipped = skipped }
        // Shards of an earlier, larger run that this plan no longer has (and sidecars this run does not keep).
        let planned = Set(plans.map(\.file)).union(sidecarFiles)
        for sub in ["text", "paired"] {
            for name in (try? fm.contentsOfDirectory(atPath: out.appendingPathComponent(sub).path)) ?? [] where !name.hasPrefix(".") {
                if !planned.contains("\(sub)/\(name)") { try? fm.removeItem(at: out.appendingPathComponent("\(sub)/\(name)")) }
            }
        }

        let text = entries[.text] ?? []
        let paired = entries[.paired] ?? []
        summary.textShards = text.count
        summary.pairedShards = paired.count
        let shas = (text + paired).compactMap { $0["sha256"] as? String }.sorted()
        summary.fingerprint = ContentHash.sha256Hex(shas.joined())
        var excluded: [String: Any] = ["records": totals.exclusions.records, "phash_distance": settings.phashDistance]
        if let semantic = settings.semantic {
            excluded["semantic_threshold"] = semantic.threshold
            excluded["semantic_duplicates_of_test"] = totals.exclusions.semanticDuplicatesOfTest ?? 0
        }
        // What reviewers decided (`dsbuild review`): the kept pairs and accepted texts above already honour it.
        let reviews = try workspace.manifest.read { db in try HumanDecisionCounts.compute(db) }
        let index: [String: Any] = [
            "reviews": reviews.json,
            "format": "dsbuild-shards", "version": 1, "dsbuild_version": DSBuildVersion.string,
            "fingerprint": summary.fingerprint, "recipe": (try? JSONSerialization.jsonObject(with: Data(SecretRedactor.redact(settings.recipeJSON).utf8))) ?? [String: Any](),
            "split": totals.split.json.merging(["by": totals.split.design.rawValue, "settings_hash": totals.split.hash]) { a, _ in a },
            "novel_keywords": totals.novelKeywords, "text": text, "paired": paired,
            "counts": ["text": summary.textRecords, "paired": summary.pairedSamples, "by_kind": summary.byKind],
            "excluded_test_questions": totals.excludedTestQuestions,
            "excluded_test_images": totals.exclusions.testImages,
            "excluded_near_duplicates_of_test": totals.exclusions.nearDuplicatesOfTest,
            "excluded": excluded, "img2dataset": sidecars.indexJSON(paired: paired),
            "images": settings.images.json.merging(summary.imageCounts.mapValues { $0 as Any }) { a, _ in a },
        ]
        let indexData = try JSONSerialization.data(withJSONObject: index, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
        try AtomicFile.write(indexData + Data("\n".utf8), to: summary.index)
        return summary
    }

    // MARK: Planning

    private var textExtension: String {
        switch settings.compression {
        case .none: "jsonl"
        case .gzip: "jsonl.gz"
        case .zstd: "jsonl.zst"
        }
    }

    /// The text shards, planned over the text lines in id order.
    private func planText(_ sort: ShardRecordSort) throws -> [Planned] {
        let ext = textExtension
        var planner = ShardPlanner(kind: .text, maxRecords: settings.textShardSize, maxBytes: settings.shardBytes,
                                   prefix: "text|\(settings.compression.rawValue)|") { String(format: "text/%05d.%@", $0, ext) }
        try sort.eachTextLine { position, line in planner.add(position, size: line.count, piece: line) }
        return planner.finish()
    }

    /// The paired shards, planned over the samples in key order (a sample's size counts its stored image, its text
    /// and 4 KiB for its JSON and tar headers).
    private func planPaired(_ sort: ShardRecordSort) throws -> [Planned] {
        var planner = ShardPlanner(kind: .paired, maxRecords: settings.shardSize, maxBytes: settings.shardBytes,
                                   prefix: "paired|\(settings.images.planKey)") { String(format: "paired/%05d.tar", $0) }
        try sort.eachPairedPlan { position, piece, size in planner.add(position, size: size, piece: piece) }
        return planner.finish()
    }

    // MARK: Encoding

    private func encodeText(_ lines: [Data]) throws -> Data {
        let raw = lines.reduce(into: Data()) { $0.append($1) }
        switch settings.compression {
        case .none: return raw
        case .gzip: return try Gzip.compress(raw)
        case .zstd: return try Zstd.compress(raw)
        }
    }

    private func encodeTar(_ samples: [PairedSample], renderer: ImageRenderer, renders: RenderedImages) async throws -> Data {
        var tar = TarWriter()
        for sample in samples {
            // An image appears in several samples, of this shard and others: rendered once per run (bounded).
            let rendered = try renders.render(sample.image, with: renderer)
            let json = try JSONSerialization.data(withJSONObject: sample.json(rendered), options: [.sortedKeys, .withoutEscapingSlashes])
            try tar.append(name: "\(sample.key).\(rendered.fileExtension)", contents: rendered.data)
            try tar.append(name: "\(sample.key).json", contents: json)
            try tar.append(name: "\(sample.key).txt", contents: Data(sample.text.utf8))
            if settings.delayPerSample > .zero { try await Task.sleep(for: settings.delayPerSample) }
        }
        return tar.finished()
    }
}
