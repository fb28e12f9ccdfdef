import ArgumentParser

// Placeholder until this stage lands: replace the whole file with the real command.
extension DSBuild {
    struct Eval: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Score a model on the multiple-choice questions.")
        @OptionGroup var options: GlobalOptions
        func run() async throws { throw NotYetAvailable(command: "eval") }
    }
}
