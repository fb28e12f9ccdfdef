import ArgumentParser

// Commands whose stages have not landed yet. Each moves to its own file when its module lands.
struct NotYetAvailable: Error, CustomStringConvertible {
    let command: String
    var description: String { "`dsbuild \(command)` is not available in this build yet" }
}

extension DSBuild {
    struct Collect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Keywords → candidate images from sources → downloaded, hashed, probed.")
        @OptionGroup var options: GlobalOptions
        func run() async throws { throw NotYetAvailable(command: "collect") }
    }
    struct Filter: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply the recipe's rules; record keep/drop and the reason per image.")
        @OptionGroup var options: GlobalOptions
        func run() async throws { throw NotYetAvailable(command: "filter") }
    }
    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write descriptions per keyword and aspect through an OpenAI-compatible endpoint.")
        @OptionGroup var options: GlobalOptions
        func run() async throws { throw NotYetAvailable(command: "describe") }
    }
    struct MCQ: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "mcq", abstract: "Write Type 1 and Type 2 multiple-choice questions.")
        @OptionGroup var options: GlobalOptions
        func run() async throws { throw NotYetAvailable(command: "mcq") }
    }
    struct Shards: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write text-only JSONL and paired WebDataset shards, and exports.")
        @OptionGroup var options: GlobalOptions
        func run() async throws { throw NotYetAvailable(command: "shards") }
    }
    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Train on text-only, paired or mixed shards with the bundled trainer.")
        @OptionGroup var options: GlobalOptions
        func run() async throws { throw NotYetAvailable(command: "train") }
    }
    struct Eval: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Score a model on the multiple-choice questions.")
        @OptionGroup var options: GlobalOptions
        func run() async throws { throw NotYetAvailable(command: "eval") }
    }
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a static HTML report of the workspace.")
        @OptionGroup var options: GlobalOptions
        func run() async throws { throw NotYetAvailable(command: "report") }
    }
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the whole pipeline from one recipe.")
        @OptionGroup var options: GlobalOptions
        func run() async throws { throw NotYetAvailable(command: "run") }
    }
}
