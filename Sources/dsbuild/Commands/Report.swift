import ArgumentParser

// Placeholder until this stage lands: replace the whole file with the real command.
extension DSBuild {
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a static HTML report of the workspace.")
        @OptionGroup var options: GlobalOptions
        func run() async throws { throw NotYetAvailable(command: "report") }
    }
}
