import Dataset

/// The `shards:` and `train:` sections of a recipe.
public enum TrainRecipe {
    public static let shards = RecipeSection("shards", [
        "out": .string,
        "shard_size": .int,
        "shard_bytes": .int,
        "compression": .choice(["none", "gzip", "zstd"]),
        "resize": .choice(["none", "keep_ratio", "center_crop", "border"]),
        "image_size": .int,
        "quality": .int,
        "image_format": .choice(["jpeg", "png"]),
        "background": .string,
        "mixture": .string,
        "exports": .list(.string),
        "novel_fraction": .number,
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
        "nodes": .int,
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
