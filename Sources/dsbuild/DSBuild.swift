import ArgumentParser
@main struct DSBuild: AsyncParsableCommand {
    func run() async throws {}
}
