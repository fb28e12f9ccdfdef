import ArgumentParser
import Dataset
import Foundation
import Train

extension DSBuild {
    /// `dsbuild eval`: MCQ accuracy by type, with and without the image, for a model behind an OpenAI-compatible endpoint.
    struct Eval: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Score a model on the MCQs (with and without image); print and store the table.")

        @OptionGroup var options: GlobalOptions

        @Option(help: "Questions JSONL (dsbuild, K-Viscuit or BUTTERFLY-style; detected). Default: the workspace's test split.")
        var questions: String?

        @Option(help: "Where the questions' image_path values resolve (default: images/ beside the questions file).")
        var images: String?

        @Option(help: "The question file's format: dsbuild, k-viscuit or butterfly (default: detected from its fields).")
        var questionsFormat: QuestionFileFormat?

        @Option(help: "The workspace split to score when no --questions is given (default: test).")
        var split: String?

        @Option(help: "The origin of the workspace questions to score: generated (default), k-viscuit, … or all.")
        var origin: String?

        @Option(name: .customLong("answers"), help: "Also write one JSON line per question (id, answer, predicted, correct, replies, error) to this file.")
        var answersFile: String?

        @Option(help: "The model name sent to the endpoint.")
        var model: String?

        @Option(help: "The OpenAI-compatible base URL (default: $OPENAI_BASE_URL).")
        var endpoint: String?

        @Option(help: "with-image, no-image or description-only (default: the recipe's eval.conditions, else with-image).")
        var condition: EvalCondition?

        @Flag(help: "CircularEval: correct only if right under every rotation of the options.")
        var circular = false

        @Option(help: "A name for this result in --compare (e.g. base, text-only, paired).")
        var label: String?

        @Option(help: "A dsbuild training run folder: links the result to that run.")
        var checkpoint: String?

        @Option(name: .customLong("max-tokens")) var maxTokens: Int?
        @Option var concurrency: Int?

        @Option(help: "The Python that runs a local --checkpoint (default: train.python, else trainer/.venv, else python3).")
        var python: String?

        @Flag(help: "Show the stored results side by side instead of evaluating.")
        var compare = false

        func validate() throws {
            _ = try split.map { try EvalSection.splitRule.checked($0, "--split") }
            _ = try model.map { try ValueRule.nonEmpty.checked($0, "--model") }
            _ = try endpoint.map { try ValueRule.httpURL.checked($0, "--endpoint") }
            _ = try maxTokens.map { try ValueRule.atLeast(1).checked($0, "--max-tokens") }
            _ = try concurrency.map { try LLMSettings.concurrencyRule.checked($0, "--concurrency") }
        }

        /// Defaults ← the recipe's `eval:` section ← these options. Paths from the recipe resolve against its
        /// folder, paths from the command line against the current directory.
        func section(_ recipe: Recipe) -> EvalSection {
            var section = EvalSection(recipe: recipe)
            section.questions = section.questions.map { recipe.resolve($0).path }
            section.images = section.images.map { recipe.resolve($0).path }
            if let questions { section.questions = questions }
            if let questionsFormat { section.questionsFormat = questionsFormat }
            if let images { section.images = images }
            if let split { section.split = split }
            if let origin { section.origin = origin }
            if let model { section.model = model }
            if let endpoint { section.endpoint = endpoint }
            if let condition { section.conditions = [condition] }
            if circular { section.circular = true }
            if let label { section.label = label }
            if let maxTokens { section.maxTokens = maxTokens }
            if let concurrency { section.concurrency = concurrency }
            return section
        }

        func run() async throws {
            let workspace = try? Workspace.open(at: options.workspaceURL)
            if compare {
                guard let workspace else { throw ValidationError("--compare needs a workspace (--workspace DIR)") }
                let rows = try EvalStore.compare(in: workspace)
                if options.json { Output.json(["results": rows]) } else { print(EvalStore.compareText(rows)) }
                return
            }
            let context: CommandContext?
            do {
                context = try workspace.map { _ in try CommandContext.open(options, command: "eval") }
            } catch let error as WorkspaceError where error.code == .inUse {
                throw error
            } catch {
                context = nil
            }
            let recipe = context?.recipe ?? .empty
            let section = section(recipe)
            let llm = LLMSettings(recipe: recipe)
            guard let modelName = section.model else { throw ValidationError("--model is required") }
            // --condition, else every condition the recipe lists (each scored and stored), else with-image.
            let conditions = section.conditions.isEmpty ? [EvalCondition.withImage] : section.conditions
            var settings = EvalSettings(model: modelName)
            settings.circular = section.circular
            settings.maxTokens = section.maxTokens
            settings.concurrency = section.concurrency
            // Images reach the model upright and within llm.image_max_side, as describe sends them.
            settings.imageMaxSide = llm.imageMaxSide

            let questionList: [EvalItem]
            let source: String
            if let url = section.questions.map({ URL(fileURLWithPath: $0) }) {
                let format = section.questionsFormat
                let read = try QuestionFileReader.read(url, format: format)
                source = "\(url.lastPathComponent) (\(read.format.rawValue))"
                let folder = section.images.map { URL(fileURLWithPath: $0) }
                    ?? url.deletingLastPathComponent().appendingPathComponent("images")
                settings.imagesDirectory = folder
                // A file's image paths are only read inside the images folder, and only images are sent.
                questionList = conditions.contains(.withImage)
                    ? QuestionFileReader.placingImages(read.questions, in: QuestionImageSource(folder: folder))
                    : read.questions.map { EvalItem($0) }
            } else {
                guard let workspace else { throw ValidationError("no --questions file and no workspace to read the test split from") }
                let (splitName, originName) = (section.split, section.origin)
                questionList = try EvalStore.questions(in: workspace, split: splitName, origin: originName == "all" ? nil : originName)
                    .map { EvalItem($0) }
                source = originName == "generated" ? "workspace:\(splitName)" : "workspace:\(originName):\(splitName)"
            }
            guard !questionList.isEmpty else { throw ValidationError("no questions to score in \(source)") }
            if conditions.contains(.descriptionOnly) {
                guard let workspace else { throw ValidationError("description-only needs a workspace with accepted descriptions") }
                settings.descriptions = try EvalStore.descriptions(in: workspace)
            }
            var reports: [[String: Any]] = []
            var errors = 0
            // A workspace eval is a run like any stage: its row records the settings applied, its results name it.
            let manifest = context?.workspace.manifest
            let runID = try manifest.map { try RunRecord.start(command: "eval", settingsJSON: section.recordJSON, in: $0) }
            do {
                guard let backend = try EvalBackend.choose(endpoint: section.endpoint, checkpoint: checkpoint, python: python,
                                                           train: TrainSection(recipe: recipe)) else {
                    throw ValidationError("no endpoint: pass --endpoint URL, set OPENAI_BASE_URL, or score a local --checkpoint DIR")
                }
                for cond in conditions {
                    settings.condition = cond
                    let (json, failed) = try await score(questionList, source: source, settings: settings, backend: backend, section: section,
                                                         recipe: recipe, workspace: workspace, runID: runID, oneOfSeveral: conditions.count > 1)
                    reports.append(json)
                    errors += failed
                    if Interruption.wasInterrupted { break }
                }
            } catch {
                if let runID, let manifest {
                    let interrupted = error is CancellationError || Interruption.wasInterrupted
                    try? RunRecord.finish(id: runID, status: interrupted ? "interrupted" : "error", countsJSON: "{}", in: manifest)
                }
                throw error
            }
            if let runID, let manifest {
                try RunRecord.finish(id: runID, status: Interruption.wasInterrupted ? "interrupted" : "ok",
                                     countsJSON: JSONText.encode(["conditions": reports.count, "failures": errors]), in: manifest)
            }
            if options.json {
                let summary: Any = reports.count == 1 ? reports[0] : ["conditions": reports] as [String: Any]
                Output.json(summary)
            }
            try Interruption.exitIfInterrupted("eval")
            if errors > 0 { throw ExitCode(1) }
        }

        /// Scores `questionList` in `settings.condition`: prints the unaskable ones, writes `--answers`, stores the
        /// result in the workspace and prints the table (text mode); returns the JSON summary and the error count.
        private func score(_ questionList: [EvalItem], source: String, settings: EvalSettings, backend: EvalBackend, section: EvalSection,
                           recipe: Recipe, workspace: Workspace?, runID: Int64?, oneOfSeveral: Bool) async throws -> ([String: Any], Int) {
            let cond = settings.condition
            let chat = try backend.chat(for: settings, questions: questionList.map(\.question)) { base in
                try EvalChat.make(endpoint: base, apiKey: ProcessInfo.processInfo.environment[LLMSettings(recipe: recipe).apiKeyVariable],
                                  workspace: workspace, recipe: recipe)
            }
            let evaluator = Evaluator(chat: chat, settings: settings, progress: options.makeProgress())
            let (report, answers) = try await Interruption.cancellable { try await evaluator.run(questionList, source: source) }
            for answer in answers {
                if let error = answer.error { Output.error(error.contains(answer.question.id) ? error : "question \(answer.question.id): \(error)") }
            }
            if let answersFile {
                // One file per condition when several are scored: NAME.<condition>.jsonl.
                let url = URL(fileURLWithPath: answersFile)
                let target = oneOfSeveral
                    ? url.deletingPathExtension().appendingPathExtension("\(cond.rawValue).\(url.pathExtension.isEmpty ? "jsonl" : url.pathExtension)") : url
                try EvalAnswerFile.write(answers, to: target)
            }
            var stored: Int64?
            if let workspace {
                let trainRun = try checkpoint.flatMap { try EvalStore.trainRunID(forCheckpoint: $0, in: workspace) }
                stored = try EvalStore.store(report, label: section.label, trainRunID: trainRun, runID: runID, in: workspace)
            }
            var json = report.json
            json["stored_id"] = stored.map { $0 as Any } ?? NSNull()
            // Under `run --json`, stdout is the run's JSON alone.
            if !options.json && !options.quiet { print(report.text) }
            return (json, report.errors)
        }
    }
}
