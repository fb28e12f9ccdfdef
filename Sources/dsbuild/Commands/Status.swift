import ArgumentParser
import Dataset

extension DSBuild {
    /// `dsbuild status`: counts per stage and per reason.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show counts per stage and per reason.")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let context = try CommandContext.open(options, command: "status")
            let report = try StatusReport.compute(context.workspace.manifest)
            if options.json {
                Output.json(report.json)
            } else {
                print(report.text)
            }
        }
    }
}
