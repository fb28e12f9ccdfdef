import Dataset
import Foundation

/// What `describe` does, from the recipe's `describe:` and `llm:` sections and the command line.
public struct DescribeSettings: Sendable {
    public var aspects: [String] = ["visual"]
    public var modes: [String] = ["text-only"]
    /// Output languages; empty means each keyword's own `language` (or English).
    public var languages: [String] = []
    public var perKeyword = 1
    public var imagesPerKeyword = 1
    public var model = "gpt-4o-mini"
    public var temperature = 0.7
    public var maxTokens = 600
    public var seed = 0
    public var templatesDirectory: URL?
    public var minChars: [String: Int] = [:]
    public var maxChars: [String: Int] = [:]
    public var dedupThreshold = 0.8
    public var concurrency = 8
    public var maxImageSide = 1024
    /// Answers asked for per description: a rejected one (too short, wrong language, …) is re-asked with the
    /// reason fed back until this many answers were given (`describe.max_attempts`).
    public var maxAttempts = 3
    public var refresh = false

    public init() {}

    /// Reads the recipe; command-line values are applied by the caller afterwards.
    public init(recipe: Recipe, workspaceRoot: URL) {
        aspects = recipe.strings("describe.aspects") ?? aspects
        modes = recipe.strings("describe.modes") ?? modes
        languages = recipe.strings("describe.languages") ?? languages
        perKeyword = recipe.int("describe.per_keyword") ?? perKeyword
        imagesPerKeyword = recipe.int("describe.images_per_keyword") ?? imagesPerKeyword
        model = recipe.string("describe.model") ?? recipe.string("llm.model") ?? model
        temperature = recipe.double("describe.temperature") ?? recipe.double("llm.temperature") ?? temperature
        maxTokens = recipe.int("describe.max_tokens") ?? recipe.int("llm.max_tokens") ?? maxTokens
        seed = recipe.int("llm.seed") ?? seed
        if let dir = recipe.fileURL("describe.templates_dir") {
            templatesDirectory = dir
        } else {
            let defaultDir = workspaceRoot.appendingPathComponent("prompts/describe")
            if FileManager.default.fileExists(atPath: defaultDir.path) { templatesDirectory = defaultDir }
        }
        for key in recipe.keys("describe.min_chars") { minChars[key] = recipe.int("describe.min_chars.\(key)") }
        for key in recipe.keys("describe.max_chars") { maxChars[key] = recipe.int("describe.max_chars.\(key)") }
        dedupThreshold = recipe.double("describe.dedup_threshold") ?? dedupThreshold
        concurrency = recipe.int("describe.concurrency") ?? recipe.int("llm.concurrency") ?? concurrency
        maxImageSide = recipe.int("llm.image_max_side") ?? maxImageSide
        maxAttempts = max(1, recipe.int("describe.max_attempts") ?? maxAttempts)
    }

    /// Variant `v` of a keyword: its own seed and a slightly higher temperature, so variants differ.
    public func sampling(variant: Int) -> (seed: Int, temperature: Double) {
        (seed + variant, min(temperature + 0.1 * Double(variant), 1.5))
    }

    var json: String {
        JSONText.encodeObject(["aspects": aspects, "modes": modes, "languages": languages, "per_keyword": perKeyword,
                               "images_per_keyword": imagesPerKeyword, "model": model, "temperature": temperature,
                               "max_tokens": maxTokens, "dedup_threshold": dedupThreshold, "refresh": refresh])
    }
}
