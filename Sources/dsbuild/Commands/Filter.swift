import ArgumentParser

// Placeholder until this stage lands: replace the whole file with the real command.
extension DSBuild {
    struct Filter: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply the recipe's rules; record keep/drop and the reason per image.")
        @OptionGroup var options: GlobalOptions
        func run() async throws { throw NotYetAvailable(command: "filter") }
    }
}
