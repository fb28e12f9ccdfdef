import Dataset
import Foundation

/// An export of the shard data into a format another trainer or evaluator reads. One format, one conformer,
/// registered in `ShardExports.all`.
protocol ShardExportFormat: Sendable {
    /// The `--export` name.
    var name: String { get }
    /// Writes the format's files under `context.directory`; returns the files written (relative to it).
    func write(_ context: ExportContext) throws -> [String]
    /// Whether `entry`, a file or folder directly under `exports/`, is one this format writes (a run without the
    /// format removes it: an export left from an earlier run may hold another split's images or questions).
    func owns(_ entry: String) -> Bool
}

/// What every export reads: the records, where images are, and a helper that places images for path-based formats.
///
/// Images leave through the same renderer as the paired shards: upright, in the dataset's one format, resized
/// when the shards are. Training exports place them under `images/` (only trainable images ever get there);
/// the test-question export writes its file and images under `mcq_test/`, so no folder mixes the two.
struct ExportContext {
    let inputs: ShardInputs
    let testQuestions: [Question]
    let workspace: Workspace
    /// `OUT/exports`.
    let directory: URL
    let renderer: ImageRenderer
    /// The `openai` export's settings (`shards.openai.*`).
    var openAI = OpenAIExportSettings()
    /// Files placed by this run, per image folder (the rest of those folders is removed at the end).
    let placed = PlacedFiles()
    /// Images rendered by this run, so that each is rendered once for all samples and exports.
    let renders = RenderedImages()
    /// Items an export left out, one line each (the item and why); the rest is written.
    let problems = ExportProblems()

    /// Places the sample's image under `exports/images/<sha>.<ext>` and returns that path relative to `directory`.
    func placeImage(_ sample: PairedSample) throws -> String {
        try placeImage(sample.image, folder: "images")
    }

    /// Writes the rendered image (the stored bytes when they are copied unchanged, checked against their sha256) as
    /// `folder/<stored sha>.<ext>`, a file of its own — never a hard link into the workspace store, which an edit of the
    /// export would change; rewrites a file left by other settings or an earlier run's link.
    func placeImage(_ image: StoredImage, folder: String) throws -> String {
        let fm = FileManager.default
        let rendered = try renders.render(image, with: renderer)
        let relative = "\(folder)/\(image.sha).\(rendered.fileExtension)"
        let destination = directory.appendingPathComponent(relative)
        placed.add(folder, relative)
        try fm.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        let links = (try? fm.attributesOfItem(atPath: destination.path))?[.referenceCount] as? NSNumber
        if links?.intValue != 1 || (try? Data(contentsOf: destination)) != rendered.data {
            try? fm.removeItem(at: destination)
            try AtomicFile.write(rendered.data, to: destination)
        }
        return relative
    }

    /// False, with one problem line and an earlier run's `outputs` removed, when there is no test question to write
    /// (an empty eval file or folder is not written: lmms-eval's loader and VLMEvalKit fail on one).
    func hasTestQuestions(_ export: String, removing outputs: [String]) -> Bool {
        guard testQuestions.isEmpty else { return true }
        problems.add("\(export): no accepted test question (all disputed or none made): nothing written")
        for o in outputs { try? FileManager.default.removeItem(at: directory.appendingPathComponent(o)) }
        return false
    }

    /// The rendered bytes of the sample's image (for formats that embed images).
    func renderedImage(_ sample: PairedSample) throws -> RenderedImage {
        try renders.render(sample.image, with: renderer)
    }

    /// The stored image a test question is asked with (nil: it has none, and is asked as text): the workspace's
    /// image by hash, else the file its path names.
    func image(of question: Question) -> StoredImage? {
        guard let path = question.imagePath else { return nil }
        let url = URL(fileURLWithPath: path)
        let sha = question.imageSHA256 ?? url.deletingPathExtension().lastPathComponent
        return inputs.images[sha] ?? StoredImage(
            sha: sha, path: url.path.hasPrefix(workspace.root.path + "/")
                ? String(url.path.dropFirst(workspace.root.path.count + 1)) : url.path,
            format: ImageFormatName.normalized(url.pathExtension), orientation: 1, bytes: 0)
    }

    static func jsonData(_ object: Any, pretty: Bool = false) throws -> Data {
        var options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { options.insert(.prettyPrinted) }
        return try JSONSerialization.data(withJSONObject: object, options: options)
    }

    static func jsonLines(_ objects: [Any]) throws -> Data {
        var data = Data()
        for o in objects { data.append(try jsonData(o)); data.append(0x0A) }
        return data
    }
}

/// The lines of items exports left out, in order. Used by one run on one thread, hence unchecked.
final class ExportProblems: @unchecked Sendable {
    private(set) var lines: [String] = []
    /// Warnings that do not fail the run.
    private(set) var notes: [String] = []
    func add(_ line: String) { lines.append(line) }
    func note(_ line: String) { notes.append(line) }
}

/// The image files one export run placed, per folder. Used by one run on one thread (the exports are written
/// one after another), hence unchecked.
final class PlacedFiles: @unchecked Sendable {
    private(set) var byFolder: [String: Set<String>] = [:]
    func add(_ folder: String, _ relative: String) { byFolder[folder, default: []].insert(relative) }
}

public enum ShardExports {
    static let all: [any ShardExportFormat] = [LLaVAExport(), LLaVAPretrainExport(), LLaMAFactoryExport(), OpenAIExport(),
                                               MCQTestExport(), VLMEvalKitExport(), LMMsEvalExport()]

    public static var names: [String] { all.map(\.name) }

    /// What an export run wrote, and the items it left out (one line each: the item and why).
    public struct Outcome: Sendable {
        /// The files written, relative to the shard folder.
        public var files: [String]
        public var problems: [String]
        /// Lines to show that do not fail the run (export files of an earlier run removed; OpenAI files with fewer
        /// examples than OpenAI asks for).
        public var notes: [String] = []
    }

    /// Removes what earlier runs left under `directory` (`OUT/exports`) of the formats not in `names` — and the
    /// training images folder when this run placed no image there — so that no export of another split stays
    /// beside this run's. Returns one line naming what went (none: nothing).
    public static func removeStale(keeping names: [String], imagesPlaced: Bool = false, in directory: URL) -> [String] {
        let fm = FileManager.default
        var removed: [String] = []
        for entry in ((try? fm.contentsOfDirectory(atPath: directory.path)) ?? []).sorted() {
            let stale = entry == "images" ? !imagesPlaced
                : all.contains { !names.contains($0.name) && $0.owns(entry) }
            if stale, (try? fm.removeItem(at: directory.appendingPathComponent(entry))) != nil { removed.append(entry) }
        }
        return removed.isEmpty ? [] : ["exports: removed what an earlier run wrote for exports not asked for now: \(removed.joined(separator: ", "))"]
    }

    /// Writes the named exports under `out/exports` from the same records, split and image settings as the
    /// shards (`settings`; the defaults when nil); returns the files written, relative to `out`.
    public static func write(_ names: [String], workspace: Workspace, out: URL, settings: ShardSettings? = nil) throws -> [String] {
        try run(names, workspace: workspace, out: out, settings: settings).files
    }

    /// As `write`, with the items left out.
    public static func run(_ names: [String], workspace: Workspace, out: URL, settings: ShardSettings? = nil) throws -> Outcome {
        let formats = try names.map { name in
            guard let format = all.first(where: { $0.name == name }) else {
                throw ShardError(.write, "unknown export \(name); known: \(ShardExports.names.joined(separator: ", "))")
            }
            return format
        }
        let settings = settings ?? ShardSettings(out: out)
        let writer = ShardWriter(workspace: workspace, settings: settings)
        let inputs = try ShardSampleBuilder.build(workspace.manifest, options: writer.builderOptions)
        // Test questions as the eval exports write them: no placeholder token in a question, option or category.
        let test = try EvalStore.questions(in: workspace, split: "test").map { q in
            var q = q
            q.question = ImageReference.neutralised(q.question)
            q.options = q.options.map(ImageReference.neutralised)
            q.category = q.category.map(ImageReference.neutralised)
            return q
        }
        let context = ExportContext(inputs: inputs, testQuestions: test, workspace: workspace,
                                    directory: out.appendingPathComponent("exports"), renderer: writer.renderer,
                                    openAI: settings.openAI)
        try FileManager.default.createDirectory(at: context.directory, withIntermediateDirectories: true)
        var files: [String] = []
        for format in formats { files += try format.write(context).map { "exports/\($0)" } }
        // Images of an earlier run (other settings, or a sample no longer there) leave the folders this run wrote.
        let fm = FileManager.default
        for (folder, keep) in context.placed.byFolder {
            let dir = context.directory.appendingPathComponent(folder)
            for name in (try? fm.contentsOfDirectory(atPath: dir.path)) ?? [] where !keep.contains("\(folder)/\(name)") {
                try? fm.removeItem(at: dir.appendingPathComponent(name))
            }
        }
        let notes = removeStale(keeping: names, imagesPlaced: context.placed.byFolder["images"] != nil, in: context.directory)
        return Outcome(files: files, problems: context.problems.lines, notes: notes + context.problems.notes)
    }
}
