import ArgumentParser
import Dataset
import Filter
import Foundation
import Generate

extension DSBuild {
    /// `dsbuild filter`: applies the recipe's rules and records keep/drop with the reason per image.
    struct Filter: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply the recipe's rules; record keep/drop and the reason per image.")

        @OptionGroup var options: GlobalOptions

        @Flag(help: "Print the requests, tokens and cost this would spend (see `dsbuild estimate`) and send nothing.")
        var estimate = false
        @Flag(help: "Print what would be dropped per rule without recording anything.")
        var dryRun = false

        @Option(help: "Minimum shorter side in pixels (default 512; 0 turns the rule off).")
        var minShortSide: Int?

        @Option(help: "Allowed aspect ratio range W/H as MIN,MAX (default 0.5,2.0).")
        var aspectRatio: String?

        @Option(help: "Hamming distance at or under which two pHashes are duplicates (default 8).")
        var phashDistance: Int?

        @Option(help: "pHash for duplicates: exact (bit-exact with Python imagehash, the default) or fast (DCT-scaled JPEG decode, ≤ 2 bits off).")
        var phash: PHashMode?

        @Option(help: "Warn about keywords left with fewer kept images than this.")
        var minPerKeyword: Int?

        @Flag(help: "Ask the configured vision model whether each image shows a watermark (cached).")
        var vlmJudge = false

        @Flag(help: "Ask the configured vision model whether each image shows its keyword rather than a sibling (cached).")
        var relevance = false

        @Flag(help: "Send the judges' requests not in the cache through the Batch API: upload, submit, poll, merge (llm.batch).")
        var batch = false
        @OptionGroup var local: LocalModelOption

        func validate() throws {
            _ = try minShortSide.map { try FilterSettings.sizeLimitRule.checked($0, "--min-short-side") }
            _ = try aspectRange()
            _ = try phashDistance.map { try FilterSettings.phashDistanceRule.checked($0, "--phash-distance") }
            _ = try minPerKeyword.map { try FilterSettings.minPerKeywordRule.checked($0, "--min-per-keyword") }
        }

        /// `--aspect-ratio MIN,MAX`, checked by `filter.aspect_ratio`'s rule.
        func aspectRange() throws -> (Double, Double)? {
            guard let aspectRatio else { return nil }
            let fields = aspectRatio.split(separator: ",", omittingEmptySubsequences: false)
            let parts = fields.compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == fields.count else {
                throw ValidationError("--aspect-ratio wants MIN,MAX with 0 < MIN <= MAX, e.g. 0.5,2.0, not \(aspectRatio)")
            }
            let range = try AspectRatioRule.rangeRule.checked(parts, "--aspect-ratio")
            return (range[0], range[1])
        }

        /// Defaults ← the recipe's `filter:` section ← these options (checked in `validate()`).
        func settings(_ recipe: Recipe) throws -> FilterSettings {
            var settings = FilterSettings(recipe: recipe)
            if let minShortSide { settings.minShortSide = minShortSide > 0 ? minShortSide : nil }
            if let range = try aspectRange() { settings.aspectRatio = range }
            if let phashDistance { settings.phashDistance = phashDistance }
            if let phash { settings.phashMode = phash }
            if let minPerKeyword { settings.minPerKeyword = minPerKeyword }
            if vlmJudge { settings.vlmJudge = true }
            if relevance { settings.relevance = true }
            return settings
        }

        func run() async throws {
            // An estimate only reads: it takes no lock, so it works while another command runs.
            let context = try CommandContext.open(options, command: estimate ? "estimate" : "filter")
            var settings = try settings(context.recipe)
            if estimate {
                EstimateOutput.show(try await PipelineEstimate.make(context, parts: [.filter], batch: batch || LLMSettings(recipe: context.recipe).batch, filter: settings, local: local.path), options: options)
                return
            }
            if let ms = ProcessInfo.processInfo.environment["DSBUILD_TEST_FILTER_DELAY_MS"], let v = Int(ms) {
                settings.delayPerImage = .milliseconds(v)
            }
            // Only judges ask a model: a filter without them neither resolves nor starts one.
            let plan = settings.vlmJudge || settings.relevance ? try LocalModelSession.plan(context, option: local.path) : nil
            if plan == nil, local.path != nil {
                // Checked all the same (a wrong path is said now, not at the next command), and said to be unused.
                _ = try LocalModelSession.plan(context, option: local.path)
                if !options.quiet { Output.note("filter: --local-model is not used: no judge is on (filter.vlm_judge, filter.relevance)") }
            }
            plan?.adapt(&settings, context)
            let judged = settings
            // The rules need no model: a filter without judges runs with no endpoint at all. Both judges share one server.
            try await LocalModelSession.serving(context, plan: plan, needsModel: judged.vlmJudge || judged.relevance, command: "filter",
                                              batch: batch) {
                try await run(context, settings: judged)
            }
        }

        private func run(_ context: CommandContext, settings: FilterSettings) async throws {
            // A dry run records nothing, so it cannot batch, and its judges would ask online: with batch mode asked
            // (--batch or llm.batch) it is refused rather than sending anything online.
            if dryRun && (settings.vlmJudge || settings.relevance) && (batch || LLMSettings(recipe: context.recipe).batch) {
                Output.error("filter --dry-run would send its judges' requests online, and batch mode (--batch or llm.batch) sends nothing online: run filter --batch without --dry-run, or the dry run without batch mode")
                throw ExitCode(2)
            }
            let queue = dryRun ? nil : try BatchMode.queue(context, flag: batch)
            let pipeline = FilterPipeline(workspace: context.workspace, settings: settings,
                                          judge: settings.vlmJudge ? try Wiring.watermarkJudge(context, settings: settings, batch: queue) : nil,
                                          relevance: settings.relevance ? try Wiring.relevanceJudge(context, settings: settings, batch: queue) : nil,
                                          logger: context.logger)
            let (runner, dry) = (context.runner, dryRun)
            let summary: FilterSummary
            let batchReport: BatchReport?
            do {
                (summary, batchReport) = try await BatchMode.run(context, queue: queue) { try await pipeline.run(runner: runner, dryRun: dry) }
            } catch let error as BatchError {
                Output.error("filter stopped: \(error.description)")
                throw ExitCode(2)
            } catch let error as ChatError {
                Output.error("filter stopped: \(error.description)")
                throw ExitCode(2)
            } catch let stopped as FilterStopped {
                Output.error("filter stopped: \(stopped.description)")
                throw ExitCode(2)
            } catch let error as EmbeddingError {
                Output.error("filter: \(error)")
                throw ExitCode(2)
            }
            for error in summary.errors { Output.error(error) }
            if options.json {
                Output.json(summary.json.merging(batchReport.map { ["batch": $0.json] } ?? [:]) { a, _ in a })
            } else if !options.quiet {
                print(FilterReportText.render(summary))
            }
            for (keyword, kept) in summary.thinKeywords.sorted(by: { $0.key < $1.key }) where !options.json && !options.quiet {
                Output.warning("keyword \(keyword) has \(kept) kept image(s), fewer than \(settings.minPerKeyword)")
            }
            let unanswered = BatchMode.finish(batchReport, command: "filter", options: options)
            try Interruption.exitIfInterrupted("filter")
            if summary.failed || unanswered { throw ExitCode(1) }
        }
    }
}

/// Renders a filter summary as a table: dropped by rule, then kept/dropped per keyword.
enum FilterReportText {
    static func render(_ s: FilterSummary) -> String {
        var lines = [s.dryRun ? "filter (dry run: nothing recorded)" : "filter", "  images×keywords \(s.pairs), kept \(s.kept)"]
        for (rule, count) in s.droppedByRule.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            lines.append("  \(s.dryRun ? "would drop" : "dropped") by \(rule): \(count)")
        }
        if !s.perKeyword.isEmpty {
            lines.append("  per keyword (kept / dropped):")
            for (keyword, c) in s.perKeyword.sorted(by: { $0.key < $1.key }) {
                lines.append("    \(keyword): \(c.kept) / \(c.dropped)")
            }
        }
        for dup in s.crossKeywordDuplicates {
            lines.append("  same image under \(dup.keywords.joined(separator: ", ")) (\(dup.sha256.prefix(12))): likely label error")
        }
        return lines.joined(separator: "\n")
    }
}

extension PHashMode: ExpressibleByArgument {}
