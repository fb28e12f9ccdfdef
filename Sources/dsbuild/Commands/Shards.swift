import ArgumentParser
import Dataset
import Foundation
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
        var compression: String?

        @Option(help: "Image resize on write: none (copy the stored bytes), keep_ratio, center_crop, border.")
        var resize: String?

        @Option(name: .customLong("image-size"), help: "Target size in pixels for --resize (default 512).")
        var imageSize: Int?

        @Option(help: "Re-encode quality for --resize and for images re-encoded for orientation or format (default 90).")
        var quality: Int?

        @Option(name: .customLong("image-format"), help: "The one image format of the paired shards and exports: jpeg (default) or png.")
        var imageFormat: String?

        @Option(help: "Colour alpha is flattened onto for --image-format jpeg, as #rrggbb (default #ffffff).")
        var background: String?

        @Option(name: .customLong("novel-fraction"), help: "Hold out this fraction of keywords as novel classes (base-to-novel).")
        var novelFraction: Double?

        @Option(help: "Seed for the novel-keyword choice.")
        var seed: Int?

        @Option(name: .customLong("export"), help: "Also write an export (repeatable): llava, llama-factory, openai, mcq.")
        var exports: [String] = []

        func run() async throws {
            let context = try CommandContext.open(options, command: "shards")
            let recipe = context.recipe
            let outDir = out ?? recipe.string("shards.out") ?? context.workspace.root.appendingPathComponent("shards").path
            var settings = ShardSettings(out: URL(fileURLWithPath: outDir, relativeTo: context.workspace.root).standardizedFileURL)
            settings.shardSize = try shardSize.map { try TrainRecipe.shardLimitRule.checked($0, "--shard-size") }
                ?? recipe.int("shards.shard_size") ?? settings.shardSize
            settings.shardBytes = try shardBytes.map { try TrainRecipe.shardLimitRule.checked($0, "--shard-bytes") }
                ?? recipe.int("shards.shard_bytes") ?? settings.shardBytes
            guard settings.shardSize > 0, settings.shardBytes > 0 else { throw ValidationError("--shard-size and --shard-bytes must be positive") }
            let compressionName = compression ?? recipe.string("shards.compression") ?? "none"
            guard let c = ShardSettings.Compression(rawValue: compressionName) else {
                throw ValidationError("--compression must be none, gzip or zstd, not \(compressionName)")
            }
            settings.compression = c
            let imageQuality = quality ?? recipe.int("shards.quality") ?? 90
            guard (1...100).contains(imageQuality) else { throw ValidationError("--quality must be in 1...100, not \(imageQuality)") }
            settings.images.quality = imageQuality
            let resizeName = resize ?? recipe.string("shards.resize") ?? "none"
            if resizeName != "none" {
                guard let mode = ImageTransformRequest.Mode(rawValue: resizeName) else {
                    throw ValidationError("--resize must be none, keep_ratio, center_crop or border, not \(resizeName)")
                }
                settings.resize = ImageTransformRequest(mode: mode, size: imageSize ?? recipe.int("shards.image_size") ?? 512,
                                                        quality: imageQuality)
            }
            let formatName = imageFormat ?? recipe.string("shards.image_format") ?? "jpeg"
            guard let format = ImageOutputFormat(rawValue: formatName == "jpg" ? "jpeg" : formatName) else {
                throw ValidationError("--image-format must be jpeg or png, not \(formatName)")
            }
            settings.images.format = format
            let backgroundText = background ?? recipe.string("shards.background") ?? "#ffffff"
            guard let color = RGBColor(hex: backgroundText) else {
                throw ValidationError("--background must be a colour written #rrggbb, not \(backgroundText)")
            }
            settings.images.background = color
            settings.novelFraction = try novelFraction.map { try TrainRecipe.novelFractionRule.checked($0, "--novel-fraction") }
                ?? recipe.double("shards.novel_fraction") ?? 0
            guard (0..<1).contains(settings.novelFraction) else { throw ValidationError("--novel-fraction must be in [0, 1)") }
            settings.seed = seed ?? recipe.int("shards.seed") ?? 0
            settings.recipeJSON = recipe.json
            settings.split = SplitSettings(recipe: recipe)
            settings.phashDistance = recipe.int("filter.duplicates.phash_distance") ?? settings.phashDistance
            if let ms = ProcessInfo.processInfo.environment["DSBUILD_TEST_SHARD_DELAY_MS"], let v = Int(ms) {
                settings.delayPerSample = .milliseconds(v)
            }
            let transformer = Wiring.imageTransformer()
            let writer = ShardWriter(workspace: context.workspace, settings: settings, transformer: transformer,
                                     logger: context.logger, progress: context.progress)
            let (manifest, settingsJSON) = (context.workspace.manifest, settings.recipeJSON)
            let summary = try await Interruption.cancellable {
                try await RunRecord.recording(command: "shards", settingsJSON: settingsJSON, in: manifest) {
                    try await writer.write()
                }
            }
            let exportNames = exports.isEmpty ? (recipe.strings("shards.exports") ?? []) : exports
            var exported: [String] = []
            // A signal during the shards (recorded interrupted above) or before the exports: no exports, exit 130.
            try Interruption.exitIfInterrupted("shards")
            if !exportNames.isEmpty {
                exported = try ShardExports.write(exportNames, workspace: context.workspace, out: settings.out,
                                                  settings: settings, transformer: transformer)
            }
            if options.json {
                var json = summary.json
                json["exports"] = exported
                Output.json(json)
            } else if !options.quiet {
                if !exported.isEmpty { print("exports: \(exported.joined(separator: ", "))") }
                print("wrote \(summary.textRecords) text records in \(summary.textShards) shard(s) and \(summary.pairedSamples) paired samples in \(summary.pairedShards) shard(s) (\(summary.written) written, \(summary.reused) already there)")
                print("index: \(summary.index.path)  fingerprint \(summary.fingerprint.prefix(16))")
            }
            try Interruption.exitIfInterrupted("shards")
        }
    }
}
