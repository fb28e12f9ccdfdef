import ArgumentParser

// Placeholder until this stage lands: replace the whole file with the real command.
extension DSBuild {
    struct Train: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Train on text-only, paired or mixed shards with the bundled trainer.")
        @OptionGroup var options: GlobalOptions
        func run() async throws { throw NotYetAvailable(command: "train") }
    }
}
