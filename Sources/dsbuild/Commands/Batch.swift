import ArgumentParser
import Dataset
import Foundation
import Generate

extension DSBuild {
    /// `dsbuild batch status|cancel`: the Batch API submissions the workspace holds (`llm_batches`).
    struct Batch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show or cancel the Batch API submissions of the workspace (describe/mcq/filter --batch).",
            subcommands: [BatchStatus.self, BatchCancel.self])
    }

    /// `dsbuild batch status [--json]`: each batch, its status and counts, as the last poll left them.
    struct BatchStatus: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "status", abstract: "List each batch with its status and request counts.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let context = try CommandContext.open(options, command: "batch status")
            let rows = try await BatchStore(manifest: context.workspace.manifest).all()
            var states: [String: Int] = [:]
            for (_, counts) in rows { states.merge(counts, uniquingKeysWith: +) }
            let inFlight = rows.filter { $0.0.inFlight }.count
            if options.json {
                Output.json(["batches": rows.map { $0.0.json(requests: $0.1) }, "in_flight": inFlight, "requests": states])
                return
            }
            guard !rows.isEmpty else { print("no batches"); return }
            print("row  batch id                          model                 status       requests  done  failed  polls")
            for (row, _) in rows {
                print([String(row.id).padding(4), (row.batchID ?? "-").padding(32), row.model.padding(20), row.status.padding(11),
                       String(row.requestCount).padding(8), String(row.completed).padding(4), String(row.failed).padding(6),
                       String(row.polls)].joined(separator: "  "))
            }
            let summary = states.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
            print("\(rows.count) batches, \(inFlight) in flight; requests: \(summary)")
        }
    }

    /// `dsbuild batch cancel`: cancels every batch in flight; what it finished is merged, the rest is pending again.
    struct BatchCancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cancel",
            abstract: "Cancel every batch in flight (POST /batches/{id}/cancel); finished requests are kept, the others become pending again.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let context = try CommandContext.open(options, command: "batch cancel")
            let driver = BatchMode.driver(context, queue: BatchQueue())
            let report: BatchReport
            do {
                report = try await Interruption.cancellable { try await driver.cancelAll() }
            } catch let error as ChatError {
                Output.error("batch cancel stopped: \(error.description)")
                throw ExitCode(2)
            } catch let error as BatchError {
                Output.error("batch cancel stopped: \(error.description)")
                throw ExitCode(2)
            }
            for problem in report.problems { Output.error("batch cancel: \(problem)") }
            if options.json {
                Output.json(["batches": report.resumed, "problems": report.problems, "answered": report.succeeded, "pending_again": report.cancelled + report.expired,
                             "failed": report.failed])
            } else if !options.quiet {
                print("batch cancel: \(report.resumed) batches settled; \(report.succeeded) requests answered before the cancel were kept, \(report.cancelled + report.expired) are pending again")
            }
            try Interruption.exitIfInterrupted("batch cancel")
            let left = (try? await driver.store.inFlight().count) ?? 0
            if left > 0 {
                Output.error("batch cancel: \(left) batch\(left == 1 ? " is" : "es are") still in flight (see the lines above); run `dsbuild batch cancel` again")
                throw ExitCode(1)
            }
        }
    }
}

private extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
