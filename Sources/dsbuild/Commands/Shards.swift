import ArgumentParser

// Placeholder until this stage lands: replace the whole file with the real command.
extension DSBuild {
    struct Shards: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write text-only JSONL and paired WebDataset shards, and exports.")
        @OptionGroup var options: GlobalOptions
        func run() async throws { throw NotYetAvailable(command: "shards") }
    }
}
