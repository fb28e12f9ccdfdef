import ArgumentParser
import Dataset
import Foundation
import Generate
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

        @OptionGroup var local: LocalModelOption

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
            // A workspace named (--workspace, $DSBUILD_WORKSPACE) must open; the current folder is one only if it is.
            let named = options.workspace != nil || !(ProcessInfo.processInfo.environment["DSBUILD_WORKSPACE"] ?? "").isEmpty
            let workspace: Workspace?
            switch Result(catching: { () throws(WorkspaceError) -> Workspace in try Workspace.open(at: options.workspaceURL) }) {
            case .success(let opened): workspace = opened
            case .failure(let error): if named { throw error } else { workspace = nil }
            }
            if compare {
                guard let workspace else { throw ValidationError("--compare needs a workspace (--workspace DIR)") }
                let rows = try EvalStore.compare(in: workspace)
                if options.json { Output.json(["results": rows]) } else { print(EvalStore.compareText(rows)) }
                return
            }
            // Its recipe is read as every command reads it: an invalid one stops the eval, as it stops the others.
            let context = try workspace.map { _ in try CommandContext.open(options, command: "eval") }
            if let context { try Wiring.applyDisputes(context) }
            let recipe = context?.recipe ?? .empty
            var section = section(recipe)
            // A local model (--local-model, llm.local) is served for the eval and scored under its own name.
            guard local.path == nil || context != nil else { throw ValidationError("--local-model needs a workspace (--workspace DIR)") }
            let plan = try context.flatMap { try LocalModelSession.plan($0, option: local.path) }
            if let plan, let context {
                if !plan.hasVision {
                    let asked = section.conditions.isEmpty ? [EvalCondition.withImage] : section.conditions
                    if asked.contains(.withImage) { LocalModelSession.skipped("eval", "the with-image condition", context, plan: plan) }
                    section.conditions = asked.filter { $0 != .withImage }
                    if section.conditions.isEmpty { return }
                }
                let scored = section
                try await LocalModelSession.serving(context, plan: plan, needsModel: true, command: "eval") {
                    var served = scored
                    if let server = LocalModelSession.current {
                        served.endpoint = server.baseURL.absoluteString
                        served.model = server.modelName
                    }
                    try await score(served, recipe: recipe, workspace: workspace, context: context)
                }
                return
            }
            try await score(section, recipe: recipe, workspace: workspace, context: context)
        }

        /// Scores the questions under `section` (its endpoint and model resolved) and prints and stores the results.
        private func score(_ section: EvalSection, recipe: Recipe, workspace: Workspace?, context: CommandContext?) async throws {
            guard let modelName = section.model else { throw ValidationError("--model is required") }
            // --condition, else every condition the recipe lists (each scored and stored), else with-image.
            let conditions = section.conditions.isEmpty ? [EvalCondition.withImage] : section.conditions
            var settings = EvalSettings(model: modelName)
            settings.circular = section.circular
            settings.maxTokens = section.maxTokens
            settings.concurrency = section.concurrency
            // Images reach the model upright and within llm.image_max_side, as describe sends them.
            settings.imageMaxSide = LLMSettings(recipe: recipe).imageMaxSide

            let questions: EvalQuestionSet
            if let file = section.questions {
                // A file's image paths are only read inside the images folder, and only images are sent.
                questions = try EvalQuestionSet.file(URL(fileURLWithPath: file), format: section.questionsFormat,
                                                     images: section.images.map { URL(fileURLWithPath: $0) },
                                                     placingImages: conditions.contains(.withImage))
                settings.imagesDirectory = questions.imagesDirectory
            } else {
                guard let workspace else { throw ValidationError("no --questions file and no workspace to read the test split from") }
                questions = try EvalQuestionSet.workspace(workspace, split: section.split, origin: section.origin)
            }
            guard !questions.items.isEmpty else { throw ValidationError("no questions to score in \(questions.source)") }
            if conditions.contains(.descriptionOnly) {
                guard let workspace else { throw ValidationError("description-only needs a workspace with accepted descriptions") }
                settings.descriptions = try EvalStore.descriptions(in: workspace)
            }
            guard let backend = try EvalBackend.choose(endpoint: section.endpoint, checkpoint: checkpoint, python: python,
                                                       train: TrainSection(recipe: recipe)) else {
                // The same one line and exit status as every stage that asks a model (README), plus the checkpoint.
                let llm = LLMSettings(recipe: recipe)
                let missing = NoEndpointError(baseURLVariable: llm.baseURLVariable, apiKeyVariable: llm.apiKeyVariable)
                Output.error("eval: \(missing.description); or pass --endpoint URL, or score a local --checkpoint DIR")
                throw ExitCode(2)
            }
            let apiKey = ProcessInfo.processInfo.environment[LLMSettings(recipe: recipe).apiKeyVariable]
            let trainRun = try workspace.flatMap { workspace in try checkpoint.flatMap { try EvalStore.trainRunID(forCheckpoint: $0, in: workspace) } }
            let evaluation = EvalRun(questions: questions, settings: settings, conditions: conditions, backend: backend,
                                     endpointChat: { try EvalChat.make(endpoint: $0, apiKey: apiKey, workspace: workspace, recipe: recipe) },
                                     storing: EvalStage.Storing(label: section.label, trainRunID: trainRun), settingsJSON: section.recordJSON)

            // A workspace eval runs each condition through the runner (its `eval.<condition>` row, its stored result);
            // with no workspace there is no manifest to record in.
            let progress = context?.progress ?? options.makeProgress()
            let runner = context?.runner ?? workspace.map { StageRunner(manifest: $0.manifest, progress: progress, logger: options.makeLogger("eval")) }
            let (printFailures, printTables) = (progress.style == .quiet, !options.json && !options.quiet)
            let (answersFile, oneOfSeveral) = (answersFile, conditions.count > 1)
            let outcome = try await Interruption.cancellable {
                try await evaluation.run(with: runner, progress: progress) { result in
                    // Cut short: no score, and an answers file of an earlier run is not replaced by a partial one.
                    guard result.complete else {
                        if !options.quiet {
                            Output.warning("eval \(result.report.condition.rawValue): interrupted after \(result.answers.count) of \(questions.items.count) questions; not scored, nothing stored")
                        }
                        return
                    }
                    // The runner shows failure lines on the progress display; a quiet one (--quiet, --json) shows
                    // none, so they are printed here: an unanswered question is always named on stderr.
                    if printFailures { result.failureLines.forEach(Output.error) }
                    if let answersFile {
                        try EvalAnswerFile.write(result.answers, to: EvalAnswerFile.url(answersFile, condition: result.report.condition,
                                                                                        oneOfSeveral: oneOfSeveral))
                    }
                    if result.answeredNothing {
                        Output.error("eval \(result.report.condition.rawValue): no question got an answer; nothing stored (is the endpoint up, the model right?)")
                    }
                    // Under `run --json`, stdout is the run's JSON alone.
                    if printTables && !result.answeredNothing { print(result.report.text) }
                }
            }
            if options.json {
                let reports = outcome.results.map { result -> [String: Any] in
                    var json = result.report.json
                    json["stored_id"] = result.storedID.map { $0 as Any } ?? NSNull()
                    json["interrupted"] = !result.complete
                    return json
                }
                Output.json(reports.count == 1 ? reports[0] : ["conditions": reports] as [String: Any])
            }
            try Interruption.exitIfInterrupted("eval")
            if outcome.failed { throw ExitCode(1) }
        }
    }
}
