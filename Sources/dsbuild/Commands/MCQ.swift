import ArgumentParser
import Dataset
import Foundation
import Generate

extension DSBuild {
    /// `dsbuild mcq [--types 1,2] [--model M] [--per-image N] [--seed S] [--test-fraction F] [--refresh]`
    /// `dsbuild mcq --import-k-viscuit FILE` / `dsbuild mcq --export FILE --format k-viscuit|butterfly|dsbuild`
    struct MCQ: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mcq",
            abstract: "Write Type 1 (recognition) and Type 2 (reasoning) multiple-choice questions; import or export question files.")
        @OptionGroup var options: GlobalOptions

        @Option(help: "Comma-separated question types to make: 1, 2.")
        var types: String?
        @Option(help: "The model for Type 2 (default: mcq.model or llm.model).")
        var model: String?
        @Option(help: "Type 1 questions per kept image.")
        var perImage: Int?
        @Option(help: "Type 2 questions per keyword.")
        var perKeyword: Int?
        @Option(help: "Distractors: random or hard.")
        var distractors: String?
        @Option(help: "Seed for answer placement, distractors and splits.")
        var seed: Int?
        @Option(help: "Share of keywords (or images) in the test split.")
        var testFraction: Double?
        @Option(help: "Requests in flight.")
        var concurrency: Int?
        @Flag(help: "Ask the model again instead of answering from the request cache.")
        var refresh = false
        @Flag(help: "Ask each question without the image (and descriptions); flag those always answered right.")
        var blindCheck = false
        @Option(help: "Blind answers per question (all must be right to count as leaky).")
        var blindRepeats: Int?
        @Flag(help: "Reject the questions the blind check flags.")
        var dropLeaky = false
        @Option(help: "Import a K-Viscuit JSONL file into the workspace (no generation).")
        var importKViscuit: String?
        @Option(help: "Write the accepted questions to this file (no generation).")
        var export: String?
        @Option(help: "Export format: dsbuild, k-viscuit, butterfly.")
        var format: String = "dsbuild"
        @Option(help: "Export only questions of this origin (generated, k-viscuit).")
        var origin: String?
        @Option(help: "Export only this split (train, test).")
        var split: String?

        func run() async throws {
            let context = try CommandContext.open(options, command: "mcq")
            let manifest = context.workspace.manifest
            if let importKViscuit {
                let count = try MCQPipeline.importKViscuit(URL(fileURLWithPath: importKViscuit), manifest: manifest)
                if options.json { Output.json(["imported": count]) } else if !options.quiet { print("mcq: imported \(count) questions") }
                return
            }
            if let export {
                guard let format = MCQFormat(rawValue: format) else {
                    throw ValidationError("unknown format \"\(format)\": use \(MCQFormat.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let count = try MCQPipeline.export(format, to: URL(fileURLWithPath: export), origin: origin, split: split, manifest: manifest)
                if options.json { Output.json(["exported": count, "file": export]) } else if !options.quiet { print("mcq: wrote \(count) questions to \(export)") }
                return
            }
            var settings = MCQSettings(recipe: context.recipe)
            if let types { settings.types = types.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }
            if let model { settings.model = model }
            if let perImage { settings.perImage = try GenerateRecipe.countRule.checked(perImage, "--per-image") }
            if let perKeyword { settings.perKeyword = try GenerateRecipe.countRule.checked(perKeyword, "--per-keyword") }
            if let distractors {
                guard ["random", "hard"].contains(distractors) else { throw ValidationError("--distractors is random or hard") }
                settings.distractors = distractors
            }
            if let seed { settings.seed = seed }
            if let testFraction { settings.testFraction = try GenerateRecipe.testFractionRule.checked(testFraction, "--test-fraction") }
            if let concurrency { settings.concurrency = try GenerateRecipe.concurrencyRule.checked(concurrency, "--concurrency") }
            settings.refresh = refresh
            if blindCheck { settings.blindCheck = true }
            if let blindRepeats { settings.blindRepeats = blindRepeats }
            if dropLeaky { settings.dropLeaky = true }
            var configuration = OpenAIClientConfiguration.from(recipe: context.recipe, environment: ProcessInfo.processInfo.environment)
            configuration.limits.concurrency = max(configuration.limits.concurrency, settings.concurrency)
            configuration.maxReasks = max(settings.maxAttempts - 1, 0)
            let client = OpenAIClient(configuration: configuration, cache: LLMCache(manifest: manifest), logger: context.logger)

            var result: [String: Any] = [:]
            var failed = false
            if settings.types.contains(1) {
                let counts = try MCQPipeline.buildType1(settings: settings, manifest: manifest)
                result["type1"] = ["accepted": counts.type1Accepted, "rejected": counts.type1Rejected]
            }
            var ledger: UsageLedger?
            if settings.types.contains(2) {
                ledger = client.ledger
                let runner = StageRunner(manifest: manifest, progress: context.progress, logger: context.logger)
                let stage = Type2Stage(settings: settings, client: client)
                let concurrency = settings.concurrency
                do {
                    let summary = try await Interruption.cancellable { try await runner.run(stage, concurrency: concurrency) }
                    result["type2"] = ["pending": summary.pending, "counts": summary.counts, "failures": summary.failures]
                    failed = summary.failures > 0 || summary.interrupted
                } catch let error as ChatError {
                    Output.error("mcq stopped: \(error.description)")
                    throw ExitCode(2)
                }
            }
            let counts = try MCQPipeline.finalize(settings: settings, manifest: manifest)
            result["questions"] = counts.total
            result["test"] = counts.test
            result["duplicates"] = counts.duplicates
            result["answer_letters"] = counts.histogram
            if settings.blindCheck {
                ledger = client.ledger
                do {
                    let report = try await BlindCheck.run(settings: settings, client: client, manifest: manifest,
                                                          repeats: settings.blindRepeats, drop: settings.dropLeaky)
                    result["blind_check"] = report.json
                    if report.failures > 0 { failed = true }
                } catch let error as ChatError {
                    Output.error("mcq blind check stopped: \(error.description)")
                    throw ExitCode(2)
                }
            }
            if let ledger { result["llm"] = ledger.totals.json }
            if options.json {
                Output.json(result)
            } else if !options.quiet {
                print("mcq: \(counts.total) questions (\(counts.test) test), \(counts.duplicates) duplicates dropped, answer letters A–D \(counts.histogram)")
                if let t1 = result["type1"] { print("type 1: \(t1)") }
                if let t2 = result["type2"] { print("type 2: \(t2)") }
            }
            try Interruption.exitIfInterrupted("mcq")
            if failed { throw ExitCode(1) }
        }
    }
}
