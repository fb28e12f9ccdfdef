import ArgumentParser
import Dataset
import Filter
import Foundation
import Train

extension DSBuild {
    /// `dsbuild publish [--out DIR]`: the release folder — dataset card with configs, parquet with embedded images,
    /// attribution, Croissant metadata.
    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the release folder: README.md dataset card, paired/text/mcq parquet, ATTRIBUTION, croissant.json.",
            discussion: """
                Reads the manifest and the same records and image renderer as `shards` (nothing derived from a test \
                image enters a training config). Images whose licence forbids the release are left out and listed in \
                ATTRIBUTION.md. A rerun writes the same bytes and keeps your edits to README.md outside its \
                dsbuild:begin/dsbuild:end regions. Parquet is written by the bundled trainer environment's pyarrow.
                """)

        @OptionGroup var options: GlobalOptions

        @Option(help: "Release folder (default: recipe publish.out, else WORKSPACE/publish).")
        var out: String?

        @Option(help: "Paired rows: per_sample (one per image and text) or per_image (one per image, all its texts as fields).")
        var layout: PublishSection.Layout?

        @Flag(help: "A release for commercial use: NC-licensed images are left out and listed.")
        var commercial = false

        @Option(help: "Image resize for this release: none, keep_ratio, center_crop, border (default: shards.resize).")
        var resize: ShardsSection.Resize?

        @Option(name: .customLong("image-size"), help: "Target size in pixels for --resize (default: shards.image_size).")
        var imageSize: Int?

        @Option(name: .customLong("pretty-name"), help: "The dataset's title (default: publish.pretty_name, else the recipe's name).")
        var prettyName: String?

        @Option(help: "The Python that runs trainer/parquet_write.py (default: train.python, else trainer/.venv, else python3).")
        var python: String?

        @Option(help: "The bundled trainer folder holding parquet_write.py (default: DSBUILD_TRAINER_DIR, else found beside dsbuild).")
        var trainer: String?

        func validate() throws {
            _ = try imageSize.map { try ShardsSection.imageSizeRule.checked($0, "--image-size") }
            _ = try prettyName.map { try PublishSection.lineRule.checked($0, "--pretty-name") }
            _ = try out.map { try ValueRule.nonEmpty.checked($0, "--out") }
        }

        /// Defaults ← the recipe's `publish:` section ← these options.
        func section(_ recipe: Recipe) -> PublishSection {
            var section = PublishSection(recipe: recipe)
            if let out { section.out = out }
            if let layout { section.layout = layout }
            if commercial { section.commercial = true }
            if let prettyName { section.prettyName = prettyName }
            return section
        }

        func run() async throws {
            let context = try CommandContext.open(options, command: "publish")
            try Wiring.applyDisputes(context)
            let recipe = context.recipe
            let section = section(recipe)
            var shards = ShardsSection(recipe: recipe)
            if let resize { shards.resize = resize }
            if let imageSize { shards.imageSize = imageSize }
            let filter = FilterSettings(recipe: recipe)
            let shardSettings = shards.settings(workspaceRoot: context.workspace.root, recipe: recipe,
                                                phashDistance: filter.phashDistance, semantic: filter.semanticMatch)
            let bridge = try PublishSettings.bridge(python: python, trainer: trainer, train: TrainSection(recipe: recipe))
            var settings = PublishSettings(section: section, out: section.folder(in: context.workspace.root), shards: shardSettings,
                                           name: RecipeHeader(recipe: recipe).name ?? context.workspace.root.lastPathComponent,
                                           python: bridge.python, script: bridge.script)
            if let ms = ProcessInfo.processInfo.environment["DSBUILD_TEST_PUBLISH_DELAY_MS"], let v = Int(ms) {
                settings.delayPerImage = .milliseconds(v)
            }
            let stage = PublishStage(workspace: context.workspace, settings: settings)
            let runner = context.runner
            let record = JSONText.encode(section.record)
            let outcome: WholeSetOutcome<PublishResult>
            do {
                outcome = try await Interruption.cancellable { try await runner.run(stage, settingsJSON: record) }
            } catch let error as PublishError {
                Output.error("publish: \(error)")
                throw ExitCode(1)
            }
            guard let result = outcome.result, !outcome.summary.interrupted else {
                Output.error("interrupted: the release folder is unfinished; run `dsbuild publish` again (parquet files already written and unchanged are kept, the rest is written anew)")
                throw Interruption.exitCode
            }
            if context.progress.style == .quiet { result.failures.forEach(Output.error) }
            result.notes.forEach(Output.error)
            if options.json {
                Output.json(result.json)
            } else if !options.quiet {
                let rows = result.rows.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                print("published \(result.imagesPublished) images (\(result.imagesLeftOut) left out for their licence) to \(result.out.path)")
                print("rows: \(rows); parquet files written \(result.parquetWritten), unchanged \(result.parquetKept); license: \(result.license)")
            }
            if !result.failures.isEmpty { throw ExitCode(1) }
        }
    }
}
