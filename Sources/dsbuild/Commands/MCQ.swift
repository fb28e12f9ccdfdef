import ArgumentParser
import Dataset
import Foundation
import Generate

extension SplitSettings.Design: ExpressibleByArgument {}
extension MCQSettings.Distractors: ExpressibleByArgument {}

extension DSBuild {
    /// `dsbuild mcq [--types 1,2] [--model M] [--per-image N] [--seed S] [--split-by image|keyword]
    /// [--test-fraction F] [--test-images-per-keyword N] [--refresh]`
    /// `dsbuild mcq --import FILE [--images DIR]` (also `--import-k-viscuit FILE`) /
    /// `dsbuild mcq --export FILE --format k-viscuit|butterfly|dsbuild`
    struct MCQ: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mcq",
            abstract: "Write Type 1 (recognition) and Type 2 (reasoning) multiple-choice questions; import or export question files.")
        @OptionGroup var options: GlobalOptions
        @OptionGroup var local: LocalModelOption

        @Option(help: "Comma-separated question types to make: 1, 2.")
        var types: String?
        @Option(help: "The model for Type 2 (default: mcq.model or llm.model).")
        var model: String?
        @Option(help: "Type 1 questions per kept image.")
        var perImage: Int?
        @Option(help: "Type 2 questions per keyword.")
        var perKeyword: Int?
        @Option(help: "Distractors: random or hard.")
        var distractors: MCQSettings.Distractors?
        @Option(help: "Seed for answer placement, distractors and splits.")
        var seed: Int?
        @Option(help: "Experiment design: image (same keywords in train and test, disjoint images; the default) or keyword (held-out keywords).")
        var splitBy: SplitSettings.Design?
        @Option(help: "Share of keywords (--split-by keyword) or of each keyword's kept images (image) in the test split, 0 ≤ F < 1.")
        var testFraction: Double?
        @Option(help: "--split-by image: the least number of kept images held out per keyword with two or more (≥ 1).")
        var testImagesPerKeyword: Int?
        @Option(help: "Requests in flight.")
        var concurrency: Int?
        @Flag(help: "Re-split the experiment and re-derive every generated question (asking the model again instead of answering from the cache).")
        var refresh = false
        @Flag(help: "Print the requests, tokens and cost this would spend (see `dsbuild estimate`) and send nothing.")
        var estimate = false
        @Flag(help: "Send requests not in the cache through the Batch API (half price, within 24 h): upload, submit, poll, merge (llm.batch).")
        var batch = false
        @Flag(help: "Ask each question without the image (and descriptions); flag those always answered right.")
        var blindCheck = false
        @Option(help: "Blind answers per question (all must be right to count as leaky).")
        var blindRepeats: Int?
        @Flag(help: "Reject the questions the blind check flags.")
        var dropLeaky = false
        @Option(name: .customLong("import"), help: "Import a question file (dsbuild, K-Viscuit or BUTTERFLY style; detected, or --format) into the workspace, with its images (no generation).")
        var importFile: String?
        @Option(help: "Import a K-Viscuit JSONL file into the workspace (same as --import FILE --format k-viscuit).")
        var importKViscuit: String?
        @Option(help: "Where an imported file's image paths resolve (default: the images/ folder beside the file).")
        var images: String?
        @Option(help: "Write the accepted questions to this file, their images upright into images/ beside it (no generation).")
        var export: String?
        @Option(help: "File format: dsbuild, k-viscuit, butterfly (export default: the recipe's mcq.style, else dsbuild; import default: detected).")
        var format: QuestionFileFormat?
        @Option(help: "Export only questions of this origin (generated, k-viscuit…); on import, the origin to give them (default: the file's, else its format's name).")
        var origin: String?
        @Option(help: "Export only this split (train, test).")
        var split: String?

        func validate() throws {
            if let split, !["train", "test"].contains(split) {
                throw ValidationError("--split is train or test, not \"\(split)\"")
            }
            _ = try questionTypes()
            _ = try perImage.map { try MCQSettings.countRule.checked($0, "--per-image") }
            _ = try perKeyword.map { try MCQSettings.countRule.checked($0, "--per-keyword") }
            _ = try testFraction.map { try SplitSettings.testFractionRule.checked($0, "--test-fraction") }
            _ = try testImagesPerKeyword.map { try SplitSettings.testImagesPerKeywordRule.checked($0, "--test-images-per-keyword") }
            _ = try concurrency.map { try LLMSettings.concurrencyRule.checked($0, "--concurrency") }
            _ = try blindRepeats.map { try MCQSettings.blindRepeatsRule.checked($0, "--blind-repeats") }
        }

        /// `--types` as the list of question types, checked by `mcq.types`' rule.
        func questionTypes() throws -> [Int]? {
            guard let types else { return nil }
            let parsed = try CommaList.parse(types, option: "--types").map { text -> Int in
                guard let type = Int(text.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--types lists question types 1 and 2, not \"\(text)\"")
                }
                return type
            }
            return try MCQSettings.typesRule.checked(parsed, "--types")
        }

        /// Defaults ← the recipe's `mcq:` section ← these options (checked in `validate()`).
        func settings(_ recipe: Recipe) throws -> MCQSettings {
            var settings = MCQSettings(recipe: recipe)
            if let types = try questionTypes() { settings.types = types }
            if let model { settings.model = model }
            if let perImage { settings.perImage = perImage }
            if let perKeyword { settings.perKeyword = perKeyword }
            if let distractors { settings.distractors = distractors }
            if let seed { settings.seed = seed }
            if let splitBy { settings.split.design = splitBy }
            if let testFraction { settings.split.testFraction = testFraction }
            if let testImagesPerKeyword { settings.split.testImagesPerKeyword = testImagesPerKeyword }
            if let concurrency { settings.concurrency = concurrency }
            settings.refresh = refresh
            if blindCheck { settings.blindCheck = true }
            if let blindRepeats { settings.blindRepeats = blindRepeats }
            if dropLeaky { settings.dropLeaky = true }
            return settings
        }

        func run() async throws {
            if estimate && (importFile != nil || importKViscuit != nil || export != nil) {
                throw ValidationError("--estimate estimates generation; it does not go with --import or --export")
            }
            // An estimate only reads: it takes no lock, so it works while another command runs.
            let context = try CommandContext.open(options, command: estimate ? "estimate" : "mcq")
            if let file = importFile ?? importKViscuit {
                let report = try MCQFiles.importFile(URL(fileURLWithPath: file), format: importKViscuit != nil ? .kViscuit : format,
                                                     imagesDirectory: images.map { URL(fileURLWithPath: $0) }, origin: origin,
                                                     workspace: context.workspace)
                for problem in report.imageProblems + report.refused { Output.error(problem) }
                if options.json {
                    Output.json(["imported": report.imported, "format": report.format.rawValue, "with_image": report.withImage,
                                 "image_problems": report.imageProblems.count, "already_present": report.alreadyPresent,
                                 "refused": report.refused.count])
                } else if !options.quiet {
                    print("mcq: imported \(report.imported) questions (\(report.format.rawValue)), \(report.withImage) with their image"
                          + (report.imageProblems.isEmpty ? "" : ", \(report.imageProblems.count) without (see above)")
                          + (report.alreadyPresent == 0 ? "" : "; \(report.alreadyPresent) already present")
                          + (report.refused.isEmpty ? "" : "; \(report.refused.count) refused (see above)"))
                }
                if !report.refused.isEmpty { throw ExitCode(1) }
                return
            }
            if let export {
                // `mcq.style` names the question file format the dataset follows.
                let style = MCQSettings(recipe: context.recipe).style
                let report = try MCQFiles.export(format ?? style, to: URL(fileURLWithPath: export), origin: origin, split: split,
                                                 workspace: context.workspace)
                for problem in report.imageProblems { Output.error(problem) }
                if options.json {
                    Output.json(["exported": report.exported, "file": export, "images": report.images, "rotated": report.rotated,
                                 "image_problems": report.imageProblems.count])
                } else if !options.quiet {
                    print("mcq: wrote \(report.exported) questions to \(export), \(report.images) images (\(report.rotated) turned upright)")
                }
                if !report.imageProblems.isEmpty { throw ExitCode(1) }
                return
            }
            var settings = try settings(context.recipe)
            if estimate {
                EstimateOutput.show(try await PipelineEstimate.make(context, parts: [.mcq], batch: batch || LLMSettings(recipe: context.recipe).batch, mcq: settings, local: local.path), options: options)
                return
            }
            // Type 1 questions are built from the keywords alone; Type 2, the blind check and verification ask a model.
            let asksModel = settings.types.contains(2) || settings.blindCheck || settings.verify
            let plan = asksModel ? try LocalModelSession.plan(context, option: local.path) : nil
            plan?.adapt(&settings, context)
            let finalSettings = settings
            let needsModel = settings.types.contains(2) || settings.blindCheck || settings.verify
            try await LocalModelSession.serving(context, plan: plan, needsModel: needsModel, command: "mcq", batch: batch) {
                try await generate(context, settings: finalSettings)
            }
        }

        private func generate(_ context: CommandContext, settings: MCQSettings) async throws {
            let queue = try BatchMode.queue(context, flag: batch)
            let client = try Wiring.chatClient(context, concurrency: settings.concurrency, maxReasks: settings.maxAttempts - 1, batch: queue)

            let (runner, generation) = (context.runner, MCQRun(settings: settings, client: client, workspaceRoot: context.workspace.root))
            let run: MCQRun.Result
            let batchReport: BatchReport?
            do {
                (run, batchReport) = try await BatchMode.run(context, queue: queue) { try await generation.run(with: runner) }
            } catch let error as BatchError {
                Output.error("mcq stopped: \(error.description)")
                throw ExitCode(2)
            } catch let error as ExperimentSplit.SettingsChanged {
                Output.error("mcq: \(error.description)")
                throw ExitCode(2)
            } catch let error as ChatError {
                Output.error("mcq stopped: \(error.description)")
                throw ExitCode(2)
            }
            let assignment = run.assignment
            var result: [String: Any] = [:]
            result["split"] = settings.split.json.merging([
                "test_images": assignment.testImages, "train_images": assignment.trainImages,
                "test_keywords": assignment.testKeywords, "keywords_without_test": assignment.keywordsWithoutTest,
            ]) { a, _ in a }
            if settings.split.design == .image && !options.json && !options.quiet {
                for keyword in assignment.keywordsWithoutTest {
                    Output.warning("keyword \(keyword) has fewer than two kept images: no held-out image, so no test question")
                }
            }
            if let counts = run.type1 {
                result["type1"] = ["accepted": counts.type1Accepted, "rejected": counts.type1Rejected]
            }
            if let summary = run.type2 {
                if !options.json && !options.quiet { for line in run.type2Skipped { Output.warning(line) } }
                result["type2"] = ["pending": summary.pending, "counts": summary.counts, "failures": summary.failures,
                                   "skipped": run.type2Skipped]
            }
            let counts = run.finalized ?? MCQPipeline.Counts()
            result["questions"] = counts.total
            result["test"] = counts.test
            result["duplicates"] = counts.duplicates
            result["answer_letters"] = counts.histogram
            result["created"] = counts.created
            result["created_answer_letters"] = counts.createdHistogram
            if let summary = run.verify {
                result["verify"] = ["pending": summary.pending, "counts": summary.counts, "failures": summary.failures,
                                    "model": settings.verifyModel]
            }
            if let disputes = run.disputes {
                result["disputes"] = ["disputed": disputes.disputed, "kept": disputes.kept, "changed": disputes.changed,
                                      "keep_disputed": settings.keepDisputed]
            }
            if let report = run.blindCheck { result["blind_check"] = report.json }
            if let batchReport { result["batch"] = batchReport.json }
            if run.type2 != nil || run.blindCheck != nil || run.verify != nil { result["llm"] = client.ledger.totals.json }
            if options.json {
                Output.json(result)
            } else if !options.quiet {
                print("mcq: split \(settings.split.summary): \(assignment.testImages) test / \(assignment.trainImages) train images")
                print("mcq: \(counts.total) questions (\(counts.test) test), \(counts.created) new, \(counts.duplicates) duplicates dropped, answer letters A–D \(counts.histogram)")
                if let counts = run.type1 { print("type 1: \(counts.type1Accepted) accepted, \(counts.type1Rejected) rejected") }
                if let summary = run.type2 {
                    let counts = summary.counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                    print("type 2: \(summary.pending) to do — \(counts.isEmpty ? "nothing" : counts)\(summary.failures > 0 ? ", \(summary.failures) failed" : "")")
                }
                if let summary = run.verify {
                    let counts = summary.counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
                    print("answer keys (\(settings.verifyModel)): \(summary.pending) to verify — \(counts.isEmpty ? "nothing" : counts)")
                }
                if let disputes = run.disputes, disputes.disputed + disputes.kept > 0 {
                    print("disputed: \(disputes.disputed) kept out of training and test, \(disputes.kept) kept (mcq.keep_disputed)")
                }
            }
            let unanswered = BatchMode.finish(batchReport, command: "mcq", options: options)
            try Interruption.exitIfInterrupted("mcq")
            if run.failed || run.interrupted || run.deferred || unanswered { throw ExitCode(1) }
        }
    }
}
