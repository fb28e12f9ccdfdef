import Dataset
import Foundation

/// What `mcq` does, from the recipe's `mcq:` section and the command line.
public struct MCQSettings: Sendable {
    public var types: [Int] = [1, 2]
    public var perImage = 1
    public var perKeyword = 1
    public var distractors = "random"
    public var taxonomyColumn: String?
    public var type1Template = "What is the name of the {category} in this image?"
    public var language = "en"
    public var model = "gpt-4o-mini"
    public var temperature = 0.7
    public var maxAttempts = 3
    /// How the experiment is split (`mcq.split_by`, `mcq.test_fraction`, `mcq.test_images_per_keyword`, `mcq.seed`):
    /// decided once, in `ExperimentSplit`; Type 2 questions draw their split from it.
    public var split = SplitSettings()
    /// Seed for answer placement, distractors and the Type 2 split draw.
    public var seed = 0
    public var concurrency = 8
    /// Re-split and re-derive every generated question, asking the model again instead of answering from the cache.
    public var refresh = false
    public var blindCheck = false
    public var blindRepeats = 3
    public var dropLeaky = false

    public init() {}

    public init(recipe: Recipe) {
        types = recipe.value("mcq.types")?.listValue?.compactMap(\.intValue) ?? types
        perImage = recipe.int("mcq.per_image") ?? perImage
        perKeyword = recipe.int("mcq.per_keyword") ?? perKeyword
        distractors = recipe.string("mcq.distractors") ?? distractors
        taxonomyColumn = recipe.string("mcq.taxonomy_column")
        type1Template = recipe.string("mcq.type1_template") ?? type1Template
        language = recipe.string("mcq.language") ?? language
        model = recipe.string("mcq.model") ?? recipe.string("llm.model") ?? model
        temperature = recipe.double("mcq.temperature") ?? recipe.double("llm.temperature") ?? temperature
        maxAttempts = recipe.int("mcq.max_attempts") ?? maxAttempts
        split = SplitSettings(recipe: recipe)
        seed = recipe.int("mcq.seed") ?? seed
        concurrency = recipe.int("mcq.concurrency") ?? recipe.int("llm.concurrency") ?? concurrency
        blindCheck = recipe.bool("mcq.blind_check") ?? blindCheck
        blindRepeats = recipe.int("mcq.blind_repeats") ?? blindRepeats
        dropLeaky = recipe.bool("mcq.drop_leaky") ?? dropLeaky
    }
}
