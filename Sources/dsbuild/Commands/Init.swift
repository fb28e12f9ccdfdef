import ArgumentParser
import Dataset
import Foundation

extension DSBuild {
    /// `dsbuild init DIR [--keywords FILE] [--recipe FILE]`
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a workspace (manifest + image store), optionally with keywords and a recipe.")

        @Argument(help: "The workspace directory to create (default: the current directory).")
        var directory: String?

        @Option(help: "A keyword file: TXT (one a line), CSV/TSV with a `keyword` header, or JSONL.")
        var keywords: String?

        @Option(help: "A YAML recipe to store in the workspace; later commands read their settings from it.")
        var recipe: String?

        @Flag(name: .long, help: "Print a machine-readable JSON summary on stdout.")
        var json = false

        @Flag(name: .shortAndLong, help: "No progress output.")
        var quiet = false

        func run() async throws {
            let dir = directory.map { URL(fileURLWithPath: $0) } ?? Workspace.defaultDirectory()
            var parsedRecipe: Recipe?
            var keywordFile = keywords.map { URL(fileURLWithPath: $0) }
            if let recipe {
                let parsed = try Recipe.load(contentsOf: URL(fileURLWithPath: recipe).standardizedFileURL, schema: CommandContext.recipeSchema)
                parsedRecipe = parsed
                if keywordFile == nil { keywordFile = parsed.fileURL("keywords") }
            }
            // The keyword file is read before anything is created: one that cannot be read leaves no workspace.
            let read = try keywordFile.map { try KeywordFileReader().read(contentsOf: $0) }
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            try WorkspaceLock.acquire(root: dir, command: "init")
            let workspace = try Workspace.create(at: dir)
            if let parsedRecipe { try workspace.storeRecipe(text: parsedRecipe.text, directory: parsedRecipe.directory) }
            var summary: [String: Any] = ["workspace": workspace.root.path]
            var failed = false
            if let result = read {
                for error in result.errors { Output.error(error.description) }
                let added = try KeywordStore.insert(result.keywords, into: workspace.manifest)
                summary["keywords_read"] = result.keywords.count
                summary["keywords_added"] = added
                summary["duplicates_merged"] = result.duplicatesMerged
                summary["bad_lines"] = result.errors.count
                failed = !result.errors.isEmpty
            }
            summary["keywords"] = try KeywordStore.count(in: workspace.manifest)
            if json {
                Output.json(summary)
            } else if !quiet {
                print("workspace \(workspace.root.path): \(summary["keywords"] ?? 0) keywords")
            }
            if failed { throw ExitCode(1) }
        }
    }
}
