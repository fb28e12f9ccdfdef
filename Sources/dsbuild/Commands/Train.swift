import ArgumentParser
import Dataset
import Foundation
import Train

extension DSBuild {
    /// `dsbuild train`: runs the bundled PyTorch trainer on a shard folder and records the run.
    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Train on text-only / paired / mixed shards with the bundled trainer.")

        @OptionGroup var options: GlobalOptions

        @Option(help: "The shard folder (with shards.json); default WORKSPACE/shards.")
        var shards: String?

        @Option(help: "text-only, paired, hybrid:<ratio> or vift.")
        var mode: String?

        @Option(help: "The base model: a local Hugging Face folder or a hub id.")
        var model: String?

        @Option(help: "The run's output folder (checkpoints, config).")
        var out: String?

        @Option(name: .customLong("max-steps")) var maxSteps: Int?
        @Option var epochs: Double?
        @Option(help: "cpu, cuda or auto.") var device: TrainSection.Device?
        @Option(help: "GPUs on this node; more than one launches torch.distributed.run.") var gpus: Int?
        @Option(help: "The Python interpreter of the trainer's virtual environment.") var python: String?
        @Option(help: "The folder holding train.py (default: the repository's trainer/).") var trainer: String?
        @Flag(help: "Create the trainer's virtual environment (trainer/setup.sh) first and use it.") var setup = false

        func validate() throws {
            _ = try mode.map { try TrainSection.modeRule.checked($0, "--mode") }
            _ = try gpus.map { try TrainSection.gpusRule.checked($0, "--gpus") }
        }

        /// Defaults ← the recipe's `train:` section ← these options.
        func section(_ recipe: Recipe) -> TrainSection {
            var section = TrainSection(recipe: recipe)
            if let mode { section.mode = mode }
            if let model { section.model = model }
            if let out { section.out = out }
            if let maxSteps { section.maxSteps = maxSteps }
            if let epochs { section.epochs = epochs }
            if let device { section.device = device }
            if let gpus { section.gpus = gpus }
            if let python { section.python = python }
            return section
        }

        func run() async throws {
            let context = try CommandContext.open(options, command: "train")
            let section = section(context.recipe)
            guard let trainMode = TrainMode(section.mode) else {
                throw ValidationError("--mode must be text-only, paired, hybrid:<ratio in 0…1> or vift, not \(section.mode)")
            }
            guard let modelName = section.model else { throw ValidationError("--model is required (a local folder or a hub id)") }
            // --out is relative to the current directory, `train.out` (an output folder, like `shards.out`) to the workspace.
            guard let outDir = out ?? section.out.map({ ShardsSection.folder($0, in: context.workspace.root).path })
            else { throw ValidationError("--out is required") }
            let settings = try section.launcherSettings(
                mode: trainMode, model: modelName,
                shards: ShardsSection.folder(shards ?? ShardsSection(recipe: context.recipe).out, in: context.workspace.root),
                out: URL(fileURLWithPath: outDir).standardizedFileURL, trainer: trainer, setUp: setup)
            var launcher = TrainLauncher(workspace: context.workspace, settings: settings, logger: context.logger, progress: context.progress)
            launcher.passStderr = options.verbose
            let outcome: TrainOutcome
            do {
                let running = launcher
                outcome = try await Interruption.cancellable { try await running.run() }
            } catch let error as TrainError where error.code == .interrupted {
                Output.error(error.description)
                throw Interruption.exitCode
            }
            if options.json {
                Output.json(outcome.json)
            } else if !options.quiet {  // under `run --json`, stdout is the run's JSON alone
                print("trained \(outcome.steps) steps (\(trainMode)) in \(String(format: "%.1f", outcome.wallSeconds)) s; loss \(outcome.firstLoss.map { String(format: "%.4f", $0) } ?? "?") → \(outcome.finalLoss.map { String(format: "%.4f", $0) } ?? "?"); checkpoint \(outcome.checkpoint ?? "(none)")")
            }
        }
    }
}
