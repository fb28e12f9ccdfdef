import ArgumentParser
import Dataset
import Foundation
import Review
import ReviewServer

extension DSBuild {
    /// `dsbuild review`: the local review web app, or an export / import of review decisions.
    struct Review: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Review images, descriptions and questions in a local web page (127.0.0.1, token-guarded); export or import decisions.")

        @OptionGroup var options: GlobalOptions

        @Option(help: "The port to listen on (127.0.0.1 only; default: a free port).")
        var port: Int = 0

        @Option(help: "The name recorded with each decision (default: $USER).")
        var reviewer: String?

        @Option(name: .customLong("export"), help: "Write the decisions in force to FILE (JSONL, keyed by image sha256 and keyword text) and exit.")
        var exportFile: String?

        @Option(name: .customLong("import"), help: "Apply the decisions of FILE (written by --export) and exit.")
        var importFile: String?

        func validate() throws {
            guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535 (0: a free port)") }
            if exportFile != nil && importFile != nil { throw ValidationError("--export and --import are separate runs") }
            if let reviewer, let problem = ReviewDesk.reviewerProblem(reviewer) { throw ValidationError("--reviewer: \(problem)") }
        }

        func run() async throws {
            // A reader: the server and --export never take the workspace lock; each write (and --import) takes it.
            let context = try CommandContext.open(options, command: "review")
            let manifest = context.workspace.manifest
            if let exportFile {
                let count = try ReviewExchange.export(from: manifest, to: URL(fileURLWithPath: exportFile))
                if options.json { Output.json(["exported": count, "file": exportFile]) }
                else if !options.quiet { print("exported \(count) review decisions to \(exportFile)") }
                return
            }
            if let importFile {
                let lock = try WorkspaceLock.acquire(root: context.workspace.root, command: "review --import")
                defer { lock.release() }
                let result = try ReviewExchange.importFile(URL(fileURLWithPath: importFile), into: manifest)
                for problem in result.problems { Output.error(problem) }
                if options.json {
                    Output.json(["applied": result.applied, "already_present": result.alreadyPresent, "failed": result.problems.count])
                } else if !options.quiet {
                    print("imported \(result.applied) review decisions (\(result.alreadyPresent) already present, \(result.problems.count) failed)")
                }
                if !result.problems.isEmpty { throw ExitCode(1) }
                return
            }
            let name = reviewer ?? ProcessInfo.processInfo.environment["USER"] ?? "reviewer"
            let server = ReviewWebServer(workspace: context.workspace, reviewer: name, port: port, logger: context.logger)
            try await Interruption.cancellable { try await server.run { url in
                // Unbuffered: a script (or a test) reading the URL from a pipe gets it at once.
                FileHandle.standardOutput.write(Data((url.absoluteString + "\n").utf8))
                if !options.quiet { Output.note("review server for \(context.workspace.root.path) at \(url.absoluteString) — Ctrl-C to stop") }
            } }
        }
    }
}
