import ArgumentParser

// Placeholder until this stage lands: replace the whole file with the real command.
extension DSBuild {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the whole pipeline from one recipe.")
        @OptionGroup var options: GlobalOptions
        func run() async throws { throw NotYetAvailable(command: "run") }
    }
}
