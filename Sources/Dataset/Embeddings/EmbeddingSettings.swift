import Foundation

/// `filter.embeddings.*`: the CLIP-family model `dsbuild embed` runs and how. Declared here, in the core, because
/// three modules read it — Train runs the model (`embed`) and holds out near copies of test images (`shards`,
/// `check`), Filter ranks keywords and groups semantic duplicates — and `FilterSettings` lifts these keys into its
/// `filter:` section, so the recipe, `recipe --schema` and the run record see them where a user looks.
public struct EmbeddingSettings: Sendable, Equatable {
    /// Where the model runs (`auto`: a CUDA GPU when torch sees one, else the CPU).
    public enum Device: String, Sendable, CaseIterable { case auto, cpu, cuda }

    /// A local Hugging Face folder of a CLIP or SigLIP model, or an open_clip checkpoint folder; nil: no embeddings.
    public var model: URL?
    /// Images (and keyword texts) per forward pass.
    public var batchSize = 32
    /// The text embedded for each keyword: `{keyword}`, and `{category}` (the keyword's category, else empty).
    public var prompt = "a photo of {keyword}."
    public var device: Device = .auto

    public init() {}

    /// `batch_size` and `embed --batch-size`.
    public static let batchSizeRule = ValueRule.atLeast(1)
    /// `prompt`: must name the keyword.
    public static let promptRule = ValueRule("text containing {keyword}") { value in
        guard let text = value.stringValue else { return nil }
        return text.contains("{keyword}") ? nil : "must contain {keyword}, not \(text)"
    }

    public static let keys: [SettingKey<EmbeddingSettings>] = [
        .file("model", \.model, help: "a local Hugging Face CLIP or SigLIP folder, or an open_clip checkpoint folder (BioCLIP), that `dsbuild embed` runs (unset: no embeddings)"),
        .int("batch_size", \.batchSize, rule: batchSizeRule, help: "images or keyword texts per forward pass of `dsbuild embed`"),
        .string("prompt", \.prompt, rule: promptRule, help: "the text embedded for each keyword ({keyword}, {category})"),
        .choice("device", \.device, help: "where `dsbuild embed` runs the model: auto (a CUDA GPU if torch sees one), cpu, cuda"),
    ]

    /// The filter rules that read embeddings (`clip_rank`, `semantic_duplicates`): a drop by one of them does not
    /// take an image out of what `dsbuild embed` embeds (Filter's rules declare these names; a test holds them equal).
    public static let dependentRules = ["clip_rank", "semantic_duplicates"]

    /// The text embedded for a keyword.
    public func text(keyword: String, category: String?) -> String {
        prompt.replacingOccurrences(of: "{keyword}", with: keyword)
            .replacingOccurrences(of: "{category}", with: category ?? "")
    }
}

/// When two images count as the same picture by their embeddings: cosine ≥ `threshold` under the model in `model`
/// (`filter.semantic_duplicates.threshold`, `filter.embeddings.model`). Within a keyword it makes semantic
/// duplicates; across the split it holds a training image out as a near copy of a test image.
public struct SemanticMatch: Sendable, Equatable {
    public let model: URL
    public let threshold: Double

    public init(model: URL, threshold: Double) {
        self.model = model
        self.threshold = threshold
    }
}
