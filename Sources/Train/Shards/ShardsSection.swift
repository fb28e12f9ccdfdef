import Dataset
import Foundation
import Imaging

/// The recipe's `shards:` section: what `dsbuild shards` writes and where. Command-line options override it
/// field by field; `settings(workspace:recipe:)` turns the result into the writer's `ShardSettings`.
public struct ShardsSection: RecipeSettings {
    public static let sectionName = "shards"

    /// How images are resized on write (`none` copies stored bytes of an upright image in the dataset's format).
    public enum Resize: String, Sendable, CaseIterable {
        case none
        case keepRatio = "keep_ratio", centerCrop = "center_crop", border

        var mode: ImageTransformRequest.Mode? { ImageTransformRequest.Mode(rawValue: rawValue) }
    }

    /// The output folder, relative to the workspace.
    public var out = "shards"
    public var shardSize = 500
    public var shardBytes = 256 << 20
    public var compression: ShardSettings.Compression = .none
    public var resize: Resize = .none
    public var imageSize = 512
    public var quality = 90
    public var imageFormat: ImageOutputFormat = .jpeg
    public var background = "#ffffff"
    public var exports: [String] = []
    public var novelFraction = 0.0
    public var seed = 0
    public var parquet: ParquetMode = .auto
    /// The `openai` export's settings (`openai.max_file_bytes`, `openai.validation_fraction`, `openai.seed`).
    public var openAI = OpenAIExportSettings()

    public init() {}

    /// `shard_size`/`shard_bytes` and `--shard-size`/`--shard-bytes`.
    public static let shardLimitRule = ValueRule.atLeast(1)
    /// `novel_fraction` and `--novel-fraction`.
    public static let novelFractionRule = ValueRule.fraction
    /// `quality` and `--quality`.
    public static let qualityRule = ValueRule.within(1, 100)
    /// `image_size` and `--image-size`.
    public static let imageSizeRule = ValueRule.atLeast(1)
    /// `background` and `--background`: a colour written `#rrggbb`.
    public static let backgroundRule = ValueRule("a colour written #rrggbb") { value in
        guard let text = value.stringValue else { return nil }
        return RGBColor(hex: text) == nil ? "must be a colour written #rrggbb, not \(text)" : nil
    }

    public static let keys: [SettingKey<ShardsSection>] = [
        .string("out", \.out, help: "the shard folder, relative to the workspace"),
        .int("shard_size", \.shardSize, rule: shardLimitRule, help: "paired samples per tar, at most"),
        .int("shard_bytes", \.shardBytes, rule: shardLimitRule, help: "a shard is closed before it passes this many bytes"),
        .choice("compression", \.compression, help: "text shard compression (.jsonl, .jsonl.gz, .jsonl.zst)"),
        .choice("resize", \.resize, help: "image resize on write; none copies the stored bytes of an upright image"),
        .int("image_size", \.imageSize, rule: imageSizeRule, help: "target size in pixels of the resize"),
        .int("quality", \.quality, rule: qualityRule, help: "JPEG quality of a resize or of a re-encode for orientation or format"),
        .choice("image_format", \.imageFormat, help: "the one image format of the paired shards and exports"),
        .string("background", \.background, rule: backgroundRule, help: "colour alpha is flattened onto for JPEG"),
        .strings("exports", \.exports, element: .choice(ShardExports.names),
                 help: "exports written beside the shards (\(ShardExports.names.joined(separator: ", ")))"),
        .number("novel_fraction", \.novelFraction, rule: novelFractionRule,
                help: "fraction of keywords held out of training as novel classes (base-to-novel)"),
        .int("seed", \.seed, help: "seed of the novel-keyword choice"),
        .choice("parquet", \.parquet,
                help: "img2dataset/NeMo parquet beside each paired tar: auto (when the bundled Python has pyarrow, else left out with a warning), required, off (no parquet, no stats)"),
        .int("openai.max_file_bytes", \.openAI.maxFileBytes, rule: shardLimitRule,
             help: "the openai export cuts its JSONL into numbered parts of at most this many bytes"),
        .number("openai.validation_fraction", \.openAI.validationFraction, rule: .fraction,
                help: "share of the training images whose samples go to the openai validation file"),
        .int("openai.seed", \.openAI.seed, help: "seed of the openai validation draw"),
    ]

    /// The shard folder `out` names: absolute as written, else inside the workspace (`~` expanded).
    public static func folder(_ out: String, in workspaceRoot: URL) -> URL {
        let expanded = (out as NSString).expandingTildeInPath
        // Appending, not `relativeTo:`: a root URL without a trailing slash would resolve against its parent.
        return (expanded.hasPrefix("/") ? URL(fileURLWithPath: expanded) : workspaceRoot.appendingPathComponent(expanded))
            .standardizedFileURL
    }

    /// The shard folder these settings name, in the workspace at `workspaceRoot`.
    public func folder(in workspaceRoot: URL) -> URL { Self.folder(out, in: workspaceRoot) }

    /// The writer's settings: these values, the split the recipe asks for (used when none is stored yet), the
    /// filter's duplicate distance `phashDistance` and its `semantic` match (images that close to a test image, by
    /// pHash or by embedding, are held out with it).
    public func settings(workspaceRoot: URL, recipe: Recipe, phashDistance: Int, semantic: SemanticMatch? = nil) -> ShardSettings {
        var settings = ShardSettings(out: Self.folder(out, in: workspaceRoot))
        settings.shardSize = shardSize
        settings.shardBytes = shardBytes
        settings.compression = compression
        settings.images.quality = quality
        settings.resize = resize.mode.map { ImageTransformRequest(mode: $0, size: imageSize, quality: quality) }
        settings.images.format = imageFormat
        settings.images.background = RGBColor(hex: background) ?? .white
        settings.novelFraction = novelFraction
        settings.seed = seed
        settings.openAI = openAI
        settings.recipeJSON = recipe.json
        settings.split = SplitSettings(recipe: recipe)
        settings.phashDistance = phashDistance
        settings.semantic = semantic
        settings.parquet = parquet
        settings.python = TrainSection(recipe: recipe).python
        return settings
    }
}
