import Dataset

/// The `shards:` and `train:` sections of a recipe.
public enum TrainRecipe {
    /// `shards.shard_size`/`shard_bytes` and `--shard-size`/`--shard-bytes`.
    public static let shardLimitRule = ValueRule.atLeast(1)
    /// `shards.novel_fraction` and `--novel-fraction`.
    public static let novelFractionRule = ValueRule.fraction

    public static let shards = RecipeSection("shards", [
        "out": .string,
        "shard_size": .checked(.int, shardLimitRule),
        "shard_bytes": .checked(.int, shardLimitRule),
        "compression": .choice(["none", "gzip", "zstd"]),
        "resize": .choice(["none", "keep_ratio", "center_crop", "border"]),
        "image_size": .checked(.int, .atLeast(1)),
        "quality": .checked(.int, .within(1, 100)),
        "image_format": .choice(["jpeg", "png"]),
        "background": .string,
        "exports": .list(.string),
        "novel_fraction": .checked(.number, novelFractionRule),
        "seed": .int,
    ])

    public static let train = RecipeSection("train", [
        "mode": .string,
        "model": .string,
        "out": .string,
        "max_steps": .int,
        "epochs": .number,
        "device": .choice(["cpu", "cuda", "auto"]),
        "dtype": .choice(["fp32", "bf16", "fp16"]),
        "gpus": .int,
        "python": .string,
        "lr": .number,
        "batch_size": .int,
        "grad_accum": .int,
        "seed": .int,
        "save_steps": .int,
        "lora": .map(["enabled": .bool, "r": .int, "alpha": .number, "dropout": .number, "target_modules": .list(.string)]),
        "freeze_vision": .bool,
        "freeze_projector": .bool,
        "gradient_checkpointing": .bool,
    ])
}
