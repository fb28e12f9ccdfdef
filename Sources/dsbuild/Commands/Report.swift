import ArgumentParser
import Dataset
import Filter
import Foundation
import Report

extension DSBuild {
    /// `dsbuild report`: a static HTML report with thumbnails, histograms, samples and eval tables.
    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a static HTML report (one self-contained folder) of the workspace.")

        @OptionGroup var options: GlobalOptions

        @Option(help: "The folder to write (default: <workspace>/report).")
        var out: String?

        func run() async throws {
            let context = try CommandContext.open(options, command: "report")
            let settings = FilterSettings(recipe: context.recipe)
            let directory = out.map { URL(fileURLWithPath: $0) } ?? context.workspace.root.appendingPathComponent("report")
            let writer = ReportWriter(workspace: context.workspace,
                                      thresholds: .init(minShortSide: settings.minShortSide, aspectRatio: settings.aspectRatio))
            let result = try writer.write(to: directory, progress: context.progress)
            for failure in result.thumbnailFailures { Output.error(failure) }
            if options.json {
                Output.json(["index": result.indexURL.path, "thumbnails": result.thumbnails,
                             "thumbnail_failures": result.thumbnailFailures.count,
                             "dropped_without_thumbnail": result.droppedWithoutThumbnail])
            } else if !options.quiet {
                print("report written to \(result.indexURL.path)")
            }
            if !result.thumbnailFailures.isEmpty { throw ExitCode(1) }
        }
    }
}
