import ArgumentParser
import Dataset
import Filter
import Foundation
import Generate
import Train

extension DSBuild {
    /// `dsbuild check`: audits the workspace and its shard folder for the invariants of a sound experiment and
    /// prints one line per violation. A reader: it takes no workspace lock and writes nothing.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Audit the workspace and its shards: leakage, stable answer keys, askability, orientation, provenance.",
            discussion: """
                Checks: \(WorkspaceChecks.names.joined(separator: ", ")). Prints one line per violation \
                (`check: item: why`), then a summary; --json prints {"ok", "checks": {name: {"ok", "violations", \
                "examples"}}, "judgements": the judges' verdicts}. Exit status 0 only when every check passes.
                """)

        @OptionGroup var options: GlobalOptions

        @Option(help: "The shard folder to audit (default: recipe shards.out, else WORKSPACE/shards).")
        var shards: String?

        @Option(help: "Only these checks, comma-separated.")
        var only: String?

        func validate() throws {
            _ = try only.map { try CommaList.parse($0, option: "--only") }
            if let unknown = checkNames?.first(where: { !WorkspaceChecks.names.contains($0) }) {
                throw ValidationError("--only: \(unknown): unknown check; known: \(WorkspaceChecks.names.joined(separator: ", "))")
            }
        }

        /// `--only` as a list of check names.
        var checkNames: [String]? { only.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } }

        func run() async throws {
            let report = try audit(echo: true)
            if !report.ok { throw ExitCode(1) }
        }

        /// Runs the checks; with `echo`, prints the report (text or JSON) on stdout.
        func audit(echo: Bool) throws -> CheckReport {
            let context = try CommandContext.open(options, command: "check")
            let url = ShardsSection.folder(shards ?? ShardsSection(recipe: context.recipe).out, in: context.workspace.root)
            let names = checkNames
            let filter = FilterSettings(recipe: context.recipe)
            let auditor = WorkspaceAuditor(workspace: context.workspace, shards: url,
                                           phashDistance: filter.phashDistance,
                                           keepDisputed: MCQSettings(recipe: context.recipe).keepDisputed, semantic: filter.semanticMatch)
            let report = try auditor.run(only: names)
            guard echo else { return report }
            if options.json {
                Output.json(report.json())
            } else {
                for note in report.notes where !options.quiet { FileHandle.standardError.write(Data("note: \(note)\n".utf8)) }
                for line in report.lines { print(line) }
                for line in report.judgements.lines { print("judgements: \(line)") }
                print(report.summary)
            }
            return report
        }
    }
}
