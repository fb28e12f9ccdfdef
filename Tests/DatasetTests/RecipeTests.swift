import Dataset
import Foundation
import Testing

@Suite struct RecipeTests {
    let schema = RecipeSchema(settings: [RecipeHeader.self, LLMSettings.self], sections: [
        RecipeSection("collect", [
            "per_keyword": .int,
            "licenses": .list(.string),
            "sources": .map(["commons": .map(["base_url": .string, "enabled": .bool])]),
        ]),
        RecipeSection("filter", ["min_short_side": .int, "aspect_ratio": .list(.number),
                                 "animated": .choice(["drop", "keep"])]),
    ])

    @Test func validRecipeValuesAreReadByPath() throws {
        let text = """
            name: butterflies
            collect:
              per_keyword: 40
              licenses: [cc0, cc-by]
              sources:
                commons:
                  base_url: http://127.0.0.1:9/w/api.php
            filter:
              aspect_ratio: [0.5, 2]
            """
        let recipe = try Recipe.parse(text: text, file: "r.yaml", schema: schema)
        #expect(recipe.int("collect.per_keyword") == 40)
        #expect(recipe.strings("collect.licenses") == ["cc0", "cc-by"])
        #expect(recipe.string("collect.sources.commons.base_url") == "http://127.0.0.1:9/w/api.php")
        #expect(recipe.doubles("filter.aspect_ratio") == [0.5, 2.0])
        #expect(recipe.keys("collect.sources") == ["commons"])
        #expect(recipe.int("filter.min_short_side") == nil)
    }

    @Test func unknownKeyNamesTheKeyTheFileAndTheLine() {
        let text = "collect:\n  per_keyword: 3\n  per_keywrd: 4\n"
        #expect {
            _ = try Recipe.parse(text: text, file: "r.yaml", schema: schema)
        } throws: { error in
            guard let e = error as? RecipeError else { return false }
            return e.code == .unknownKey && e.key == "collect.per_keywrd" && e.line == 3
                && e.description.hasPrefix("r.yaml:3: `collect.per_keywrd`")
        }
    }

    @Test func wrongTypeNamesTheKeyAndLine() {
        let text = "filter:\n  min_short_side: big\n"
        #expect {
            _ = try Recipe.parse(text: text, file: "r.yaml", schema: schema)
        } throws: { error in
            guard let e = error as? RecipeError else { return false }
            return e.code == .wrongType && e.key == "filter.min_short_side" && e.line == 2
                && e.message.contains("integer")
        }
    }

    @Test func badChoiceIsAnError() {
        #expect(throws: RecipeError.self) {
            _ = try Recipe.parse(text: "filter:\n  animated: maybe\n", file: "r.yaml", schema: schema)
        }
    }

    @Test func aSecretInTheRecipeIsRefused() {
        let text = "llm:\n  model: gpt-4o\n  api_key: sk-live-123\n"
        #expect {
            _ = try Recipe.parse(text: text, file: "r.yaml", schema: schema)
        } throws: { error in
            guard let e = error as? RecipeError else { return false }
            return e.code == .secretInRecipe && e.line == 3 && !e.description.contains("sk-live-123")
        }
    }

    /// Credentials by shape are secrets too: the recipe is copied into the workspace and every shard index.
    @Test(arguments: ["llm:\n  model: m\n  base_url: http://usrCANARY:pwCANARY@127.0.0.1:8080/v1\n",
                      "llm:\n  model: m\n  base_url: http://127.0.0.1:8080/v1?api_key=pwCANARY\n"])
    func aURLCarryingCredentialsIsRefusedWithoutPrintingThem(_ text: String) {
        #expect {
            _ = try Recipe.parse(text: text, file: "r.yaml", schema: schema)
        } throws: { error in
            guard let e = error as? RecipeError else { return false }
            return e.code == .secretInRecipe && e.line == 3 && e.key == "llm.base_url" && !e.description.contains("pwCANARY")
        }
        // The same URL without credentials is fine.
        #expect(throws: Never.self) { _ = try Recipe.parse(text: "llm:\n  base_url: http://127.0.0.1:8080/v1\n", file: "r.yaml", schema: schema) }
    }

    @Test func yamlSyntaxErrorsCarryALine() {
        #expect {
            _ = try Recipe.parse(text: "collect:\n  per_keyword: [1, 2\nfilter: {}\n", file: "r.yaml", schema: schema)
        } throws: { error in
            guard let e = error as? RecipeError else { return false }
            return e.code == .syntax && e.line > 0
        }
    }

    @Test func emptyRecipeIsValid() throws {
        let recipe = try Recipe.parse(text: "", file: "r.yaml", schema: schema)
        #expect(recipe.int("collect.per_keyword") == nil)
    }
}
