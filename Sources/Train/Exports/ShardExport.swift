import Dataset
import Foundation

/// An export of the shard data into a format another trainer or evaluator reads. One format, one conformer,
/// registered in `ShardExports.all`.
protocol ShardExportFormat: Sendable {
    /// The `--export` name.
    var name: String { get }
    /// Writes the format's files under `context.directory`; returns the files written (relative to it).
    func write(_ context: ExportContext) throws -> [String]
}

/// What every export reads: the records, where images are, and a helper that places images for path-based formats.
struct ExportContext {
    let inputs: ShardInputs
    let testQuestions: [EvalQuestion]
    let workspace: Workspace
    /// `OUT/exports`.
    let directory: URL

    /// Places the sample's image under `exports/images/<sha>.<ext>` (a hard link, or a copy across file systems)
    /// and returns that path relative to `directory`.
    func placeImage(_ sample: PairedSample) throws -> String {
        try placeImage(sha256: sample.imageSHA256, format: sample.imageFormat, storePath: sample.imagePath)
    }

    func placeImage(sha256: String, format: String, storePath: String) throws -> String {
        let relative = "images/\(sha256).\(ImageFormatName.normalized(format))"
        let destination = directory.appendingPathComponent(relative)
        let fm = FileManager.default
        if !fm.fileExists(atPath: destination.path) {
            try fm.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
            let source = workspace.imageURL(relativePath: storePath)
            do { try fm.linkItem(at: source, to: destination) } catch { try fm.copyItem(at: source, to: destination) }
        }
        return relative
    }

    func imageData(_ sample: PairedSample) throws -> Data {
        try Data(contentsOf: workspace.imageURL(relativePath: sample.imagePath))
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

public enum ShardExports {
    static let all: [any ShardExportFormat] = [LLaVAExport(), LLaMAFactoryExport(), OpenAIExport(), MCQTestExport()]

    public static var names: [String] { all.map(\.name) }

    /// Writes the named exports under `out/exports`; returns the files written, relative to `out`.
    public static func write(_ names: [String], workspace: Workspace, out: URL, novelFraction: Double = 0, seed: Int = 0) throws -> [String] {
        let formats = try names.map { name in
            guard let format = all.first(where: { $0.name == name }) else {
                throw ShardError(.write, "unknown export \(name); known: \(ShardExports.names.joined(separator: ", "))")
            }
            return format
        }
        let inputs = try ShardSampleBuilder.build(workspace.manifest, options: .init(novelFraction: novelFraction, seed: seed))
        let test = try EvalStore.questions(in: workspace, split: "test")
        let context = ExportContext(inputs: inputs, testQuestions: test, workspace: workspace,
                                    directory: out.appendingPathComponent("exports"))
        try FileManager.default.createDirectory(at: context.directory, withIntermediateDirectories: true)
        var files: [String] = []
        for format in formats { files += try format.write(context).map { "exports/\($0)" } }
        return files
    }
}
