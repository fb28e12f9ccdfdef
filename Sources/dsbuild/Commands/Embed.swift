import ArgumentParser
import Dataset
import Filter
import Foundation
import Train

extension DSBuild {
    /// `dsbuild embed`: image and keyword-text embeddings with a local CLIP or SigLIP model, stored in the workspace
    /// for `clip_rank`, `semantic_duplicates` and the semantic side of the split's leak check.
    struct Embed: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compute image and keyword-text embeddings with a local CLIP, SigLIP or open_clip model (filter.embeddings.model).",
            discussion: """
                Runs the bundled trainer's embed.py (as `eval --checkpoint` runs eval_mcq.py) over the images still in \
                play and every keyword's prompt text that has no vector yet, a batch at a time; vectors go to \
                WORKSPACE/embeddings/<model>.f16, their rows to the manifest. Resumable: a rerun embeds only what is \
                missing. An unreadable image is one error line; the rest are embedded.
                """)

        @OptionGroup var options: GlobalOptions

        @Option(help: "A local Hugging Face CLIP or SigLIP folder, or an open_clip checkpoint folder (default: filter.embeddings.model).")
        var model: String?

        @Option(name: .customLong("batch-size"), help: "Images or texts per forward pass (default: filter.embeddings.batch_size, 32).")
        var batchSize: Int?

        @Option(help: "auto, cpu or cuda (default: filter.embeddings.device, auto).")
        var device: EmbeddingSettings.Device?

        @Option(help: "The Python that runs trainer/embed.py (default: train.python, else trainer/.venv, else python3).")
        var python: String?

        func validate() throws {
            _ = try batchSize.map { try EmbeddingSettings.batchSizeRule.checked($0, "--batch-size") }
            _ = try model.map { try ValueRule.nonEmpty.checked($0, "--model") }
        }

        /// Defaults ← the recipe's `filter.embeddings` ← these options.
        func settings(_ recipe: Recipe) -> EmbeddingSettings {
            var settings = FilterSettings(recipe: recipe).embeddings
            if let model { settings.model = URL(fileURLWithPath: (model as NSString).expandingTildeInPath).standardizedFileURL }
            if let batchSize { settings.batchSize = batchSize }
            if let device { settings.device = device }
            return settings
        }

        func run() async throws {
            let context = try CommandContext.open(options, command: "embed")
            let embeddings = settings(context.recipe)
            var embed = try EmbedSettings.make(embeddings, python: python, train: TrainSection(recipe: context.recipe))
            if let ms = ProcessInfo.processInfo.environment["DSBUILD_TEST_EMBED_DELAY_MS"], let v = Int(ms) { embed.delayPerBatch = .milliseconds(v) }
            let stage = EmbedStage(workspace: context.workspace, settings: embed)
            let record = JSONText.encodeObject(["model": embeddings.model?.path ?? NSNull(), "batch_size": embeddings.batchSize,
                                                "device": embeddings.device.rawValue, "prompt": embeddings.prompt])
            let runner = context.runner
            let outcome: WholeSetOutcome<EmbedResult>
            do {
                outcome = try await Interruption.cancellable { try await runner.run(stage, settingsJSON: record) }
            } catch let error as EmbeddingError {
                Output.error("embed: \(error)")
                throw ExitCode(error.code == .modelMissing || error.code == .unsupportedModel ? 2 : 1)
            }
            guard let result = outcome.result else {
                Output.error("interrupted: run `dsbuild embed` again to finish (done work is kept)")
                throw Interruption.exitCode
            }
            // The runner shows failures on the progress display; a quiet one (--quiet, --json) shows none.
            if context.progress.style == .quiet { result.failures.forEach(Output.error) }
            if options.json {
                Output.json(result.json)
            } else if !options.quiet {
                print(Self.text(result))
            }
            try Interruption.exitIfInterrupted("embed")
            if result.cutShort {
                Output.error("interrupted: run `dsbuild embed` again to finish (done work is kept)")
                throw Interruption.exitCode
            }
            if !result.failures.isEmpty { throw ExitCode(1) }
        }

        static func text(_ r: EmbedResult) -> String {
            let rate = r.seconds > 0 && r.imagesEmbedded > 0 ? String(format: ", %.1f images/s", Double(r.imagesEmbedded) / r.seconds) : ""
            let model = r.family.isEmpty ? r.model : "\(r.family) \(r.model), \(r.dim) floats"
            return """
                embed (\(model))
                  images: \(r.imagesEmbedded) embedded, \(r.imagesAlready) already, \(r.failures.count) failed\(rate)
                  keywords: \(r.keywordsEmbedded) embedded, \(r.keywordsAlready) already
                  vectors: \(r.file.isEmpty ? "none yet" : r.file)
                """
        }
    }
}

extension EmbeddingSettings.Device: ExpressibleByArgument {}
