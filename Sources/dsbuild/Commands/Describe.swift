import ArgumentParser

// Placeholder until this stage lands: replace the whole file with the real command.
extension DSBuild {
    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write descriptions per keyword and aspect through an OpenAI-compatible endpoint.")
        @OptionGroup var options: GlobalOptions
        func run() async throws { throw NotYetAvailable(command: "describe") }
    }
}
