import Dataset
import Foundation
import Testing
@testable import Generate

/// Issue 16: every `describe:` and `mcq:` key is declared once — set in a recipe it changes the applied setting,
/// it has a schema line, and a stage's sampling values fall back to `llm:` through typed properties.
@Suite struct StageSettingsTests {
    static let schema = RecipeSchema(settings: [LLMSettings.self, DescribeSettings.self, MCQSettings.self])

    static func recipe(_ text: String, file: String = "/tmp/dsbuild-settings/recipe.yaml") throws -> Recipe {
        try Recipe.parse(text: text, file: file, schema: schema)
    }

    /// The value at a dotted path of a nested record.
    static func lookup(_ plain: AnyPlain, _ path: String) -> AnyPlain? {
        var current: AnyPlain? = plain
        for part in path.split(separator: ".") {
            guard case .map(let entries)? = current else { return nil }
            current = entries.first { $0.0 == String(part) }?.1
        }
        return current
    }

    /// A non-default YAML value for every `describe:` key.
    static let describeValues: [String: String] = [
        "aspects": "[visual, cultural]", "modes": "[image-grounded]", "languages": "[ko]", "per_keyword": "3",
        "images_per_keyword": "2", "model": "m-describe", "temperature": "0.2", "max_tokens": "99",
        "templates_dir": "my-prompts", "min_chars": "{visual: 50}", "max_chars": "{caption: 300}",
        "dedup_threshold": "0.5", "concurrency": "3", "max_attempts": "5", "verify": "true", "verify_model": "m-verify",
    ]

    /// A non-default YAML value for every `mcq:` key (the split's included).
    static let mcqValues: [String: String] = [
        "types": "[2]", "per_image": "2", "per_keyword": "4", "distractors": "hard", "taxonomy_column": "genus",
        "type1_template": "Which {category} is this?", "language": "ko", "style": "butterfly", "model": "m-mcq",
        "temperature": "0.1", "max_attempts": "2", "blind_check": "true", "blind_repeats": "5", "drop_leaky": "true",
        "concurrency": "2", "split_by": "keyword", "test_fraction": "0.3", "test_images_per_keyword": "2", "seed": "9",
        "verify": "true", "verify_model": "m-verifier", "keep_disputed": "true",
    ]

    @Test func everyDescribeKeyChangesTheAppliedSetting() throws {
        #expect(Set(Self.describeValues.keys) == Set(DescribeSettings.keys.map(\.path)), "a value for every key")
        let defaults = DescribeSettings().record
        for (key, value) in Self.describeValues {
            let settings = DescribeSettings(recipe: try Self.recipe("describe:\n  \(key): \(value)\n"))
            let applied = try #require(Self.lookup(settings.record, key), "\(key)")
            #expect(applied != Self.lookup(defaults, key), "describe.\(key) was not applied")
        }
    }

    @Test func everyMCQKeyChangesTheAppliedSetting() throws {
        #expect(Set(Self.mcqValues.keys) == Set(MCQSettings.keys.map(\.path)), "a value for every key")
        let defaults = MCQSettings().record
        for (key, value) in Self.mcqValues {
            let settings = MCQSettings(recipe: try Self.recipe("mcq:\n  \(key): \(value)\n"))
            let applied = try #require(Self.lookup(settings.record, key), "\(key)")
            #expect(applied != Self.lookup(defaults, key), "mcq.\(key) was not applied")
        }
        // The typed values behind the record.
        let all = Self.mcqValues.map { "  \($0.key): \($0.value)" }.sorted().joined(separator: "\n")
        let s = MCQSettings(recipe: try Self.recipe("mcq:\n\(all)\n"))
        #expect(s.types == [2] && s.distractors == .hard && s.style == .butterfly && s.taxonomyColumn == "genus")
        #expect(s.split == SplitSettings(design: .keyword, testFraction: 0.3, testImagesPerKeyword: 2, seed: 9))
        #expect(s.seed == 9 && s.blindCheck && s.dropLeaky && s.blindRepeats == 5 && s.maxAttempts == 2)
        #expect(s.verify && s.keepDisputed && s.verifyModel == "m-verifier")
        #expect(MCQSettings(recipe: try Self.recipe("mcq:\n  model: m-mcq\n")).verifyModel == "m-mcq", "unset: the mcq model")
        #expect(DescribeSettings(recipe: try Self.recipe("llm:\n  model: m-llm\n")).verifyModel == "m-llm", "unset: the describe model")
        #expect(SplitSettings(recipe: try Self.recipe("mcq:\n\(all)\n")) == s.split, "shards reads the same split")
    }

    @Test func everyKeyHasASchemaLineAndTheValidatorKnowsIt() throws {
        for (type, section, values) in [(DescribeSettings.schema, "describe", Self.describeValues),
                                        (MCQSettings.schema, "mcq", Self.mcqValues)] {
            #expect(Set(type.map(\.key)) == Set(values.keys.map { "\(section).\($0)" }))
            #expect(type.allSatisfy { !$0.help.isEmpty && !$0.type.isEmpty }, "\(section)")
        }
        #expect(Set(MCQSettings.schema.map(\.key)).isSuperset(of: SplitSettings.schema.map(\.key)), "the split's keys are mcq's")
        #expect(throws: RecipeError.self) { try Self.recipe("describe:\n  images: 2\n") }
        #expect(throws: RecipeError.self) { try Self.recipe("mcq:\n  max_tokens: 20\n") }
    }

    @Test func templatesDirResolvesAgainstTheRecipesFolder() throws {
        let settings = DescribeSettings(recipe: try Self.recipe("describe:\n  templates_dir: my-prompts\n", file: "/data/project/r.yaml"),
                                        workspaceRoot: URL(fileURLWithPath: "/elsewhere"))
        #expect(settings.templatesDirectory?.path == "/data/project/my-prompts")
        let absolute = DescribeSettings(recipe: try Self.recipe("describe:\n  templates_dir: /abs/p\n"))
        #expect(absolute.templatesDirectory?.path == "/abs/p")
    }

    @Test func unsetSamplingValuesFallBackToLLMAndTheStagesOwnWin() throws {
        let llm = "llm:\n  model: m-llm\n  temperature: 0.3\n  max_tokens: 77\n  concurrency: 5\n  seed: 4\n  image_max_side: 512\n"
        let inherited = DescribeSettings(recipe: try Self.recipe(llm))
        #expect(inherited.ownModel == nil && inherited.model == "m-llm")
        #expect(inherited.temperature == 0.3 && inherited.maxTokens == 77 && inherited.concurrency == 5)
        #expect(inherited.seed == 4 && inherited.maxImageSide == 512)
        let own = DescribeSettings(recipe: try Self.recipe(llm + "describe:\n  model: m-own\n  temperature: 0.9\n  max_tokens: 11\n  concurrency: 2\n"))
        #expect(own.model == "m-own" && own.temperature == 0.9 && own.maxTokens == 11 && own.concurrency == 2)
        let neither = DescribeSettings(recipe: .empty)
        #expect(neither.model == LLMSettings().model && neither.maxTokens == DescribeSettings.defaultMaxTokens)
        #expect(neither.concurrency == LLMSettings().concurrency && neither.temperature == LLMSettings().temperature)
        // The run records the values applied, fallbacks resolved, and the llm section it asked through.
        let record = inherited.runRecord
        #expect(Self.lookup(record, "model") == .string("m-llm") && Self.lookup(record, "max_tokens") == .int(77))
        #expect(Self.lookup(record, "llm.seed") == .int(4))

        let mcq = MCQSettings(recipe: try Self.recipe(llm))
        #expect(mcq.model == "m-llm" && mcq.temperature == 0.3 && mcq.concurrency == 5)
        #expect(mcq.seed == 0, "mcq.seed is the split's seed, not llm.seed")
        let mcqOwn = MCQSettings(recipe: try Self.recipe(llm + "mcq:\n  model: m-q\n  temperature: 1.1\n  concurrency: 1\n"))
        #expect(mcqOwn.model == "m-q" && mcqOwn.temperature == 1.1 && mcqOwn.concurrency == 1)
        // A command-line value set afterwards is the stage's own.
        var overridden = inherited
        overridden.model = "m-cli"
        #expect(overridden.ownModel == "m-cli" && Self.lookup(overridden.runRecord, "model") == .string("m-cli"))
    }

    @Test func lengthBoundsComeFromTheAspectUnlessTheRecipeSetsThem() throws {
        let settings = DescribeSettings(recipe: try Self.recipe("describe:\n  min_chars: {visual: 50}\n"))
        #expect(settings.lengthBounds(of: "visual") == (50, Aspect.visual.maxChars))
        #expect(settings.lengthBounds(of: "caption") == (Aspect.caption.minChars, Aspect.caption.maxChars))
        #expect(settings.lengthBounds(of: "my-own") == (Aspect.defaultMinChars, Aspect.defaultMaxChars))
    }

    @Test func recipeRefusesWhatTheOptionsRefuse() throws {
        for (yaml, message) in [("describe:\n  per_keyword: 0\n", "must be at least 1, not 0"),
                                ("describe:\n  concurrency: 0\n", "must be at least 1, not 0"),
                                ("mcq:\n  types: [1, 3]\n", "must list question types 1 and 2 only, not 3"),
                                ("mcq:\n  test_images_per_keyword: 0\n", "must be at least 1, not 0"),
                                ("mcq:\n  distractors: easy\n", "easy")] {
            let error = #expect(throws: RecipeError.self) { try Self.recipe(yaml) }
            #expect(error.map { "\($0)" }?.contains(message) == true, "\(yaml): \(String(describing: error))")
        }
        #expect(DescribeSettings.countRule.problem(int: 0) == "must be at least 1, not 0")
        #expect(MCQSettings.typesRule.problem(.list([.int(3, line: 0)], line: 0)) != nil)
    }
}
