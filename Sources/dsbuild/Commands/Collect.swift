import ArgumentParser

// Placeholder until this stage lands: replace the whole file with the real command.
extension DSBuild {
    struct Collect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Keywords → candidate images from sources → downloaded, hashed, probed.")
        @OptionGroup var options: GlobalOptions
        func run() async throws { throw NotYetAvailable(command: "collect") }
    }
}
