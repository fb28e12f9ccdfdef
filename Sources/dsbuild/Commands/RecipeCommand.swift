import ArgumentParser
import Dataset
import Foundation

extension DSBuild {
    /// `dsbuild recipe`: every recipe key documented (`--schema`), or the settings a recipe file amounts to.
    struct RecipeCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "recipe",
            abstract: "Print every recipe key (--schema), or check a recipe and print the settings it amounts to.")

        @Argument(help: "A recipe file to check; its effective settings (defaults ← recipe) are printed.")
        var file: String?

        @Flag(help: "Print every key the recipe may hold: its type and range, its default and what it does.")
        var schema = false

        @Flag(name: .long, help: "Print JSON on stdout.")
        var json = false

        func validate() throws {
            if schema == (file != nil) { throw ValidationError("give either --schema or a recipe FILE") }
        }

        func run() throws {
            let recipeSchema = CommandContext.recipeSchema
            if schema {
                let entries = recipeSchema.entries
                if json {
                    print(JSONText.encode(["keys": entries]))
                } else {
                    print(RecipeSchemaText.schema(entries))
                }
                return
            }
            let url = URL(fileURLWithPath: file ?? "").standardizedFileURL
            let recipe = try Recipe.load(contentsOf: url, schema: recipeSchema)
            let sections = recipeSchema.settings.map { type in (name: type.sectionName, record: type.init(recipe: recipe).record) }
            if json {
                print(JSONText.encode(AnyPlain.map(sections.flatMap { name, record -> [(String, AnyPlain)] in
                    if name.isEmpty, case .map(let entries) = record { return entries }
                    return [(name, record)]
                })))
            } else {
                print(RecipeSchemaText.effective(sections))
            }
        }
    }
}
