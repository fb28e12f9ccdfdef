import Dataset
import Foundation

/// The recipe's `train:` section. The launcher's own keys (mode, model, out, steps, device, GPUs, Python) set
/// `TrainSettings`; the rest go to the bundled trainer's config as they are, and a key left unset keeps the
/// trainer's default (`trainer/config.py`).
public struct TrainSection: RecipeSettings {
    public static let sectionName = "train"

    public enum Device: String, Sendable, CaseIterable { case cpu, cuda, auto }
    public enum DType: String, Sendable, CaseIterable { case fp32, bf16, fp16 }

    public var mode = "text-only"
    public var model: String?
    public var out: String?
    public var maxSteps: Int?
    public var epochs: Double?
    public var device: Device?
    public var gpus = 1
    public var python: String?
    public var dtype: DType?
    public var lr: Double?
    public var weightDecay: Double?
    public var warmupSteps: Int?
    public var warmupRatio: Double?
    public var batchSize: Int?
    public var gradAccum: Int?
    public var maxGradNorm: Double?
    public var maxLength: Int?
    public var seed: Int?
    public var saveSteps: Int?
    public var loraEnabled: Bool?
    public var loraR: Int?
    public var loraAlpha: Double?
    public var loraDropout: Double?
    public var loraTargetModules: [String]?
    public var freezeVision: Bool?
    public var freezeProjector: Bool?
    public var gradientCheckpointing: Bool?

    public init() {}

    /// `mode` and `--mode`: text-only, paired, hybrid:<ratio in 0…1> or vift.
    public static let modeRule = ValueRule("text-only, paired, hybrid:<ratio in 0…1> or vift") { value in
        guard let text = value.stringValue else { return nil }
        return TrainMode(text) == nil ? "must be text-only, paired, hybrid:<ratio in 0…1> or vift, not \(text)" : nil
    }
    /// `gpus` and `--gpus`.
    public static let gpusRule = ValueRule.atLeast(1)

    /// The keys the launcher reads itself; every other key is trainer config.
    static let launcherKeys: Set<String> = ["mode", "model", "out", "max_steps", "epochs", "device", "gpus", "python"]

    public static let keys: [SettingKey<TrainSection>] = [
        .string("mode", \.mode, rule: modeRule, help: "text-only, paired, hybrid:<ratio> (paired share) or vift"),
        .string("model", \.model, help: "the base model: a local Hugging Face folder or a hub id"),
        .string("out", \.out, help: "the run's output folder (checkpoints, config), relative to the workspace"),
        .int("max_steps", \.maxSteps, rule: .atLeast(1), help: "optimizer steps (overrides epochs)"),
        .number("epochs", \.epochs, rule: .greaterThan(0), help: "passes over the shards (unset: the trainer's 1)"),
        .choice("device", \.device, help: "where the trainer runs (unset: auto)"),
        .int("gpus", \.gpus, rule: gpusRule, help: "GPUs on this node; more than one launches torch.distributed.run"),
        .string("python", \.python, help: "the trainer environment's Python (unset: python3)"),
        .choice("dtype", \.dtype, help: "training precision (unset: the trainer's fp32)"),
        .number("lr", \.lr, rule: .greaterThan(0), help: "learning rate (unset: the trainer's default)"),
        .number("weight_decay", \.weightDecay, rule: .atLeast(0), help: "AdamW weight decay (unset: the trainer's default)"),
        .int("warmup_steps", \.warmupSteps, rule: .atLeast(0), help: "linear warm-up steps (unset: warmup_ratio)"),
        .number("warmup_ratio", \.warmupRatio, rule: .within(0, 1), help: "warm-up as a share of the steps (unset: the trainer's default)"),
        .int("batch_size", \.batchSize, rule: .atLeast(1), help: "samples per step and device"),
        .int("grad_accum", \.gradAccum, rule: .atLeast(1), help: "gradient accumulation steps"),
        .number("max_grad_norm", \.maxGradNorm, rule: .greaterThan(0), help: "gradient clipping norm"),
        .int("max_length", \.maxLength, rule: .atLeast(1), help: "tokens per sample, at most"),
        .int("seed", \.seed, help: "the trainer's seed (sample order, LoRA init)"),
        .int("save_steps", \.saveSteps, rule: .atLeast(0), help: "checkpoint every this many steps (0: only at the end)"),
        .bool("lora.enabled", \.loraEnabled, help: "train LoRA adapters instead of the full model"),
        .int("lora.r", \.loraR, rule: .atLeast(1), help: "LoRA rank"),
        .number("lora.alpha", \.loraAlpha, rule: .greaterThan(0), help: "LoRA alpha"),
        .number("lora.dropout", \.loraDropout, rule: .within(0, 1, upperOpen: true), help: "LoRA dropout"),
        .strings("lora.target_modules", \.loraTargetModules, help: "modules LoRA adapts (unset: the trainer's choice per model family)"),
        .bool("freeze_vision", \.freezeVision, help: "keep the vision tower frozen"),
        .bool("freeze_projector", \.freezeProjector, help: "keep the multimodal projector frozen"),
        .bool("gradient_checkpointing", \.gradientCheckpointing, help: "trade compute for memory"),
    ]

    /// The trainer config keys that are set (launcher keys and unset keys left out), as JSON.
    public var trainerConfigJSON: String {
        guard case .map(let entries) = record.droppingNulls else { return "{}" }
        return JSONText.encode(AnyPlain.map(entries.filter { !Self.launcherKeys.contains($0.0) }))
    }
}

extension TrainSection {
    /// The launcher's settings for this section: `mode`, `model`, the shard and output folders given, the bundled
    /// trainer (`trainer`, a `--trainer DIR`, else found by `TrainerLocation`) and its Python (with `setUp`, the
    /// environment `setup.sh` creates; else `python`, else `python3`). The section's other keys go to the
    /// trainer's config as they are (lr, batch_size, lora, …).
    public func launcherSettings(mode: TrainMode, model: String, shards: URL, out: URL, trainer: String?,
                                 setUp: Bool) throws(TrainError) -> TrainSettings {
        let trainerDirectory = try TrainerLocation.find(explicit: trainer)
        var settings = TrainSettings(shards: shards, mode: mode, model: model, out: out, trainerDirectory: trainerDirectory)
        settings.maxSteps = maxSteps
        settings.epochs = epochs
        settings.device = device?.rawValue
        settings.gpus = gpus
        settings.python = try setUp ? TrainerLocation.setUp(trainerDirectory) : (python ?? "python3")
        settings.extraJSON = trainerConfigJSON
        return settings
    }
}
