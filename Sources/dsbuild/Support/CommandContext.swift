import ArgumentParser
import Collect
import Dataset
import Filter
import Foundation
import Generate
import Logging
import Train

/// What a command needs once its options are parsed: the workspace, its recipe, a logger and progress.
struct CommandContext {
    let workspace: Workspace
    let recipe: Recipe
    let logger: Logger
    let progress: ProgressReporter
    let options: GlobalOptions

    /// The one stage runner of the command: every stage and whole-set step it runs, in whichever module, goes
    /// through it (its runs rows, progress and interruption).
    var runner: StageRunner { StageRunner(manifest: workspace.manifest, progress: progress, logger: logger) }

    /// Every section a recipe may hold, as the modules declare them.
    static let recipeSchema = RecipeSchema(settings: [
        RecipeHeader.self, LLMSettings.self, CollectSettings.self, FilterSettings.self, DescribeSettings.self,
        MCQSettings.self, ShardsSection.self, PublishSection.self, TrainSection.self, EvalSection.self,
    ])

    /// Commands that only read: they never take the workspace lock, so they work while a writer runs.
    static let readers: Set<String> = ["status", "report", "check", "estimate", "batch status", "review"]

    /// The same context with another recipe (`estimate RECIPE`, `run RECIPE --estimate`).
    func with(recipe: Recipe) -> CommandContext {
        CommandContext(workspace: workspace, recipe: recipe, logger: logger, progress: progress, options: options)
    }

    /// Opens the workspace named by the options and loads its stored recipe. A command that writes takes the
    /// workspace lock first (a second writer fails at once, naming the holder); readers do not.
    static func open(_ options: GlobalOptions, command: String) throws -> CommandContext {
        let workspace = try Workspace.open(at: options.workspaceURL)
        if !readers.contains(command) {
            try WorkspaceLock.acquire(root: workspace.root, command: command)
        }
        let recipe = try workspace.storedRecipe(schema: recipeSchema)
        return CommandContext(workspace: workspace, recipe: recipe, logger: options.makeLogger(command),
                              progress: options.makeProgress(), options: options)
    }
}

/// Prints results: JSON on stdout with `--json`, text otherwise.
enum Output {
    static func json(_ object: Any) {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        print(String(decoding: data, as: UTF8.self))
    }

    static func error(_ message: String) {
        FileHandle.standardError.write(Data("error: \(SecretRedactor.redact(message))\n".utf8))
    }

    /// A line for the user on stderr (stdout stays data).
    static func note(_ message: String) {
        FileHandle.standardError.write(Data("\(SecretRedactor.redact(message))\n".utf8))
    }

    static func warning(_ message: String) {
        FileHandle.standardError.write(Data("warning: \(SecretRedactor.redact(message))\n".utf8))
    }
}
