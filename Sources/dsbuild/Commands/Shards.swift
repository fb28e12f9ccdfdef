import ArgumentParser
import Dataset
import Filter
import Foundation
import Imaging
import Train

extension DSBuild {
    /// `dsbuild shards [--out DIR]`: text-only JSONL shards, paired WebDataset tars and `shards.json`.
    struct Shards: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write text-only JSONL and paired WebDataset shards, and the shards.json index.")

        @OptionGroup var options: GlobalOptions

        @Option(help: "Output folder (default: recipe shards.out, else WORKSPACE/shards).")
        var out: String?

        @Option(name: .customLong("shard-size"), help: "Paired samples per tar (default 500).")
        var shardSize: Int?

        @Option(name: .customLong("shard-bytes"), help: "Close a shard before it passes this many bytes (default 256 MiB).")
        var shardBytes: Int?

        @Option(help: "Text shard compression: none, gzip (.jsonl.gz) or zstd (.jsonl.zst).")
        var compression: ShardSettings.Compression?

        @Option(help: "Image resize on write: none (copy the stored bytes), keep_ratio, center_crop, border.")
        var resize: ShardsSection.Resize?

        @Option(name: .customLong("image-size"), help: "Target size in pixels for --resize (default 512).")
        var imageSize: Int?

        @Option(help: "Re-encode quality for --resize and for images re-encoded for orientation or format (default 90).")
        var quality: Int?

        @Option(name: .customLong("image-format"), help: "The one image format of the paired shards and exports: jpeg (default) or png.")
        var imageFormat: ImageOutputFormat?

        @Option(help: "Colour alpha is flattened onto for --image-format jpeg, as #rrggbb (default #ffffff).")
        var background: String?

        @Option(name: .customLong("novel-fraction"), help: "Hold out this fraction of keywords as novel classes (base-to-novel).")
        var novelFraction: Double?

        @Option(help: "Seed for the novel-keyword choice.")
        var seed: Int?

        @Option(help: "img2dataset/NeMo parquet beside each paired tar: auto (default; left out with a warning without pyarrow), required, off.")
        var parquet: ParquetMode?

        @Option(name: .customLong("export"), help: "Also write an export (repeatable): llava, llava-pretrain, llama-factory, openai, mcq, vlmevalkit, lmms-eval.")
        var exports: [String] = []

        func validate() throws {
            _ = try shardSize.map { try ShardsSection.shardLimitRule.checked($0, "--shard-size") }
            _ = try shardBytes.map { try ShardsSection.shardLimitRule.checked($0, "--shard-bytes") }
            _ = try imageSize.map { try ShardsSection.imageSizeRule.checked($0, "--image-size") }
            _ = try quality.map { try ShardsSection.qualityRule.checked($0, "--quality") }
            _ = try novelFraction.map { try ShardsSection.novelFractionRule.checked($0, "--novel-fraction") }
            _ = try background.map { try ShardsSection.backgroundRule.checked($0, "--background") }
            if let unknown = exports.first(where: { !ShardExports.names.contains($0) }) {
                throw ValidationError("--export must be one of \(ShardExports.names.joined(separator: ", ")), not \(unknown)")
            }
        }

        /// Defaults ← the recipe's `shards:` section ← these options.
        func section(_ recipe: Recipe) -> ShardsSection {
            var section = ShardsSection(recipe: recipe)
            if let out { section.out = out }
            if let shardSize { section.shardSize = shardSize }
            if let shardBytes { section.shardBytes = shardBytes }
            if let compression { section.compression = compression }
            if let resize { section.resize = resize }
            if let imageSize { section.imageSize = imageSize }
            if let quality { section.quality = quality }
            if let imageFormat { section.imageFormat = imageFormat }
            if let background { section.background = background }
            if let novelFraction { section.novelFraction = novelFraction }
            if let seed { section.seed = seed }
            if let parquet { section.parquet = parquet }
            if !exports.isEmpty { section.exports = exports }
            return section
        }

        func run() async throws {
            let context = try CommandContext.open(options, command: "shards")
            try Wiring.applyDisputes(context)
            let recipe = context.recipe
            let section = section(recipe)
            let filter = FilterSettings(recipe: recipe)
            var settings = section.settings(workspaceRoot: context.workspace.root, recipe: recipe,
                                            phashDistance: filter.phashDistance, semantic: filter.semanticMatch)
            if let ms = ProcessInfo.processInfo.environment["DSBUILD_TEST_SHARD_DELAY_MS"], let v = Int(ms) {
                settings.delayPerSample = .milliseconds(v)
            }
            let stage = ShardsStage(workspace: context.workspace, settings: settings, exports: section.exports)
            let (runner, settingsJSON) = (context.runner, section.recordJSON)
            let outcome = try await Interruption.cancellable { try await runner.run(stage, settingsJSON: settingsJSON) }
            // Interrupted while writing (recorded so): no exports, exit 130. A signal that came after the stage
            // finished interrupted nothing: its row says ok, and so does the exit status.
            guard let result = outcome.result, !outcome.summary.interrupted else {
                Output.error("interrupted: run `dsbuild shards` again to finish (done work is kept)")
                throw Interruption.exitCode
            }
            let (summary, exported) = (result.shards, result.exports)
            if let skipped = summary.parquetSkipped { Output.warning("shards: paired/*.parquet not written: \(skipped)") }
            for line in result.exportProblems { Output.error(line) }
            for line in result.exportNotes { Output.error(line) }
            if options.json {
                var json = summary.json
                json["exports"] = exported
                json["export_problems"] = result.exportProblems
                Output.json(json)
            } else if !options.quiet {
                if !exported.isEmpty { print("exports: \(exported.joined(separator: ", "))") }
                print("wrote \(summary.textRecords) text records in \(summary.textShards) shard(s) and \(summary.pairedSamples) paired samples in \(summary.pairedShards) shard(s) (\(summary.written) written, \(summary.reused) already there\(summary.sidecarsWritten > 0 ? ", \(summary.sidecarsWritten) img2dataset file(s) written" : ""))")
                print("index: \(summary.index.path)  fingerprint \(summary.fingerprint.prefix(16))")
            }
            if !result.exportProblems.isEmpty { throw ExitCode(1) }
        }
    }
}
