import ArgumentParser

// Placeholder until this stage lands: replace the whole file with the real command.
extension DSBuild {
    struct MCQ: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "mcq", abstract: "Write Type 1 and Type 2 multiple-choice questions.")
        @OptionGroup var options: GlobalOptions
        func run() async throws { throw NotYetAvailable(command: "mcq") }
    }
}
