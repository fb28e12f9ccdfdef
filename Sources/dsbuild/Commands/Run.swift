import ArgumentParser
import Dataset
import Filter
import Foundation
import Train

extension DSBuild {
    /// `dsbuild run recipe.yaml`: init (if needed) → collect → filter → describe → mcq → shards, then train and
    /// eval when the recipe has their sections. Every stage is resumable, so the whole run is: run it again after
    /// any interruption and it finishes without repeating finished work.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the whole pipeline from one recipe (resumable; rerun after any interruption).",
            discussion: """
                Stages: \(PipelineStage.allCases.map(\.rawValue).joined(separator: " → ")). embed runs only when the \
                recipe names filter.embeddings.model, train and eval only when the recipe has their sections. The workspace is --workspace, else the recipe's `workspace:` (relative \
                to the recipe), else $DSBUILD_WORKSPACE or the current directory.
                """)

        @Argument(help: "The recipe (YAML).")
        var recipe: String

        @Option(help: "Start at this stage (\(PipelineStage.allCases.map(\.rawValue).joined(separator: ", "))).")
        var from: PipelineStage?

        @Option(help: "Stop after this stage.")
        var until: PipelineStage?

        @Flag(help: "Print the requests, tokens and cost the pending model stages would spend (see `dsbuild estimate`) and run nothing; the workspace must exist.")
        var estimate = false

        @Flag(help: "Send filter's judges, describe and mcq requests not in the cache through the Batch API (llm.batch).")
        var batch = false

        @OptionGroup var options: GlobalOptions
        @OptionGroup var local: LocalModelOption

        func run() async throws {
            let recipeURL = URL(fileURLWithPath: recipe).standardizedFileURL
            let parsed = try Recipe.load(contentsOf: recipeURL, schema: CommandContext.recipeSchema)
            let directory: URL
            if let workspace = options.workspace {
                directory = URL(fileURLWithPath: workspace)
            } else if let workspace = RecipeHeader(recipe: parsed).workspace {
                directory = URL(fileURLWithPath: workspace, relativeTo: recipeURL.deletingLastPathComponent()).standardizedFileURL
            } else {
                directory = Workspace.defaultDirectory()
            }
            let stages = PipelineStage.selected(for: parsed, from: from, until: until)
            if estimate {
                var global = options
                global.workspace = directory.path
                let context = try CommandContext.open(global, command: "estimate").with(recipe: parsed)
                EstimateOutput.show(try await PipelineEstimate.make(context, parts: PipelineEstimate.Part.allCases, batch: batch || LLMSettings(recipe: parsed).batch, local: local.path),
                                    options: options)
                return
            }
            let started = Date().timeIntervalSince1970

            // One lock for every stage: the stage commands run in this process and take it again (re-entrant).
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try WorkspaceLock.acquire(root: directory, command: "run")

            // init: always safe to repeat (keywords merge, the recipe is stored again).
            let initArguments = [directory.path, "--recipe", recipeURL.path, "--quiet"]
            do {
                try await Init.parse(initArguments).run()
            } catch let exit as ExitCode where exit.rawValue == 1 {
                Output.warning("some keyword lines could not be read (see above); continuing with the rest")
            }

            var stageArguments = ["--workspace", directory.path]
            if options.quiet || options.json { stageArguments.append("--quiet") }
            if options.verbose { stageArguments.append("--verbose") }
            let progress = options.makeProgress()
            let arguments = stageArguments
            // One local server for every stage of the run (`llm.local` / --local-model): started here when a stage that
            // asks a model is selected, found running by the stage commands, stopped when the run ends.
            var runOptions = options
            runOptions.workspace = directory.path
            let context = try CommandContext.open(runOptions, command: "run")
            let filter = FilterSettings(recipe: parsed)
            let asksModel = stages.contains(.describe) || stages.contains(.mcq)
                || (stages.contains(.filter) && (filter.vlmJudge || filter.relevance))
            let plan = asksModel ? try LocalModelSession.plan(context, option: local.path) : nil
            if plan != nil, batch || LLMSettings(recipe: parsed).batch { throw ValidationErrorMessage(BatchMode.localRefusal) }
            // The server starts just before the first stage that asks it (collect and a judge-less filter run without
            // it, and a failed start stops the run there), then serves every later stage and stops with the run.
            let modelStage = { (stage: PipelineStage) in stage == .describe || stage == .mcq || (stage == .filter && (filter.vlmJudge || filter.relevance)) }
            let split = plan == nil ? stages.count : (stages.firstIndex(where: modelStage) ?? stages.count)
            var result = try await runStages(Array(stages[..<split]), arguments: arguments, progress: progress, batch: batch)
            if let plan, split < stages.count, !result.interrupted, result.stopped == nil {
                defer { LocalModelSession.stopStarted() }
                do {
                    try await LocalModelSession.startIfNeeded(context, plan: plan, command: "run")
                    result.merge(try await runStages(Array(stages[split...]), arguments: arguments, progress: progress, batch: batch))
                } catch let exit as ExitCode where exit.rawValue == Interruption.exitCode.rawValue {
                    result.outcomes.append((stages[split], "interrupted"))
                    result.interrupted = true
                } catch let exit as ExitCode {
                    result.outcomes.append((stages[split], "stopped"))
                    result.stopped = "\(stages[split].rawValue) stopped: the local model's server did not start (exit \(exit.rawValue))"
                }
            } else if split < stages.count, !result.interrupted, result.stopped == nil {
                result.merge(try await runStages(Array(stages[split...]), arguments: arguments, progress: progress, batch: batch))
            }
            try finish(result, recipe: parsed, directory: directory, started: started)
        }

        private func runStages(_ stages: [PipelineStage], arguments: [String], progress: ProgressReporter, batch: Bool) async throws -> PipelineResult {
            try await Interruption.cancellable { () async -> PipelineResult in
                var result = PipelineResult()
                for stage in stages {
                    if Task.isCancelled { result.interrupted = true; break }
                    progress.message("== \(stage.rawValue)")
                    do {
                        let report = try await stage.run(arguments: arguments + (batch && stage.takesBatch ? ["--batch"] : []))
                        result.check = report ?? result.check
                        result.outcomes.append((stage, report?.ok == false ? "failures" : "ok"))
                        if report?.ok == false { result.failed = true }
                    } catch let exit as ExitCode where exit.rawValue == 1 {
                        result.outcomes.append((stage, "failures"))
                        result.failed = true
                    } catch let exit as ExitCode where exit.rawValue == Interruption.exitCode.rawValue {
                        result.outcomes.append((stage, "interrupted"))
                        result.interrupted = true
                        break
                    } catch let exit as ExitCode {
                        result.outcomes.append((stage, "stopped"))
                        result.stopped = "\(stage.rawValue) stopped (exit \(exit.rawValue))"
                        break
                    } catch {
                        result.outcomes.append((stage, "error"))
                        Output.error("\(stage.rawValue): \(error)")
                        result.stopped = "\(stage.rawValue): \(error)"
                        break
                    }
                }
                if Task.isCancelled { result.interrupted = true }
                return result
            }
        }

        private func finish(_ result: PipelineResult, recipe parsed: Recipe, directory: URL, started: TimeInterval) throws {
            let (outcomes, failed, stopped) = (result.outcomes, result.failed, result.stopped)
            let interrupted = result.interrupted
            let workspace = try Workspace.open(at: directory)
            let shardsFolder = ShardsSection(recipe: parsed).folder(in: workspace.root)
            var summary = try RunSummary.compute(workspace: workspace, recipe: parsed, shards: shardsFolder, since: started,
                                                 outcomes: outcomes.map { ($0.stage.rawValue, $0.status) })
            if let check = result.check, let i = summary.rows.firstIndex(where: { $0.stage == "check" }) {
                // The check row: checks passed, violations per failed check.
                summary.rows[i].done = check.results.filter(\.ok).count
                summary.rows[i].failed = Dictionary(uniqueKeysWithValues: check.results.filter { !$0.ok }.map { ($0.name, $0.violations.count) })
                for line in check.lines { FileHandle.standardError.write(Data("check: \(line)\n".utf8)) }
            }
            if options.json {
                var object = summary.json
                if let check = result.check { object["check"] = check.json() }
                object["workspace"] = workspace.root.path
                object["interrupted"] = interrupted
                if let stopped { object["stopped"] = stopped }
                Output.json(object)
            } else if !options.quiet {
                print(summary.table)
            }
            if let stopped { Output.error(stopped) }
            if interrupted { Output.error("interrupted: run `dsbuild run \(recipe)` again to finish") }
            if interrupted { throw Interruption.exitCode }
            if stopped != nil { throw ExitCode(2) }
            if failed { throw ExitCode(1) }
        }
    }
}

/// What the stages of one `dsbuild run` did.
struct PipelineResult: Sendable {
    var outcomes: [(stage: PipelineStage, status: String)] = []
    var failed = false
    var stopped: String?
    var interrupted = false
    /// The closing `check` stage's report, when it ran.
    var check: CheckReport?

    /// Adds what the later stages of the same run did.
    mutating func merge(_ later: PipelineResult) {
        outcomes += later.outcomes
        failed = failed || later.failed
        stopped = stopped ?? later.stopped
        interrupted = interrupted || later.interrupted
        check = later.check ?? check
    }
}
