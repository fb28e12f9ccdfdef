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

        @Option(help: "Where the questions' image_path values resolve (default: beside the questions file).")
        var images: String?

        @Option(help: "The question file's format: dsbuild, k-viscuit or butterfly (default: detected from its fields).")
        var questionsFormat: String?

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

        @Option(help: "with-image, no-image or description-only.")
        var condition: String?

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
            guard let modelName = model ?? recipe.string("eval.model") else { throw ValidationError("--model is required") }
            let conditionName = condition ?? recipe.strings("eval.conditions")?.first ?? "with-image"
            guard let cond = EvalCondition(rawValue: conditionName) else {
                throw ValidationError("--condition must be with-image, no-image or description-only, not \(conditionName)")
            }
            var settings = EvalSettings(model: modelName)
            settings.condition = cond
            settings.circular = circular || recipe.bool("eval.circular") == true
            settings.maxTokens = maxTokens ?? recipe.int("eval.max_tokens") ?? 3
            settings.concurrency = concurrency ?? recipe.int("eval.concurrency") ?? 4

            let questionList: [EvalQuestion]
            let source: String
            if let file = questions ?? recipe.string("eval.questions") {
                let url = URL(fileURLWithPath: file)
                let format = try questionsFormat.map { name -> QuestionFileFormat in
                    guard let f = QuestionFileFormat(rawValue: name) else {
                        throw ValidationError("--questions-format must be \(QuestionFileFormat.allCases.map(\.rawValue).joined(separator: ", ")), not \(name)")
                    }
                    return f
                }
                let read = try QuestionFileReader.read(url, format: format)
                source = "\(url.lastPathComponent) (\(read.format.rawValue))"
                let folder = URL(fileURLWithPath: images ?? recipe.string("eval.images") ?? url.deletingLastPathComponent().appendingPathComponent("images").path)
                settings.imagesDirectory = folder
                // A file's image paths are only read inside the images folder, and only images are sent.
                questionList = cond == .withImage
                    ? QuestionFileReader.placingImages(read.questions, in: QuestionImageSource(folder: folder))
                    : read.questions
            } else {
                guard let workspace else { throw ValidationError("no --questions file and no workspace to read the test split from") }
                let splitName = split ?? recipe.string("eval.split") ?? "test"
                let originName = origin ?? recipe.string("eval.origin") ?? "generated"
                questionList = try EvalStore.questions(in: workspace, split: splitName, origin: originName == "all" ? nil : originName)
                source = originName == "generated" ? "workspace:\(splitName)" : "workspace:\(originName):\(splitName)"
            }
            guard !questionList.isEmpty else { throw ValidationError("no questions to score in \(source)") }
            if cond == .descriptionOnly {
                guard let workspace else { throw ValidationError("description-only needs a workspace with accepted descriptions") }
                settings.descriptions = try EvalStore.descriptions(in: workspace)
            }
            let env = ProcessInfo.processInfo.environment
            let chat: any ChatService
            if let base = endpoint ?? recipe.string("eval.endpoint") ?? (checkpoint == nil ? env["OPENAI_BASE_URL"] : nil) {
                chat = try EvalChat.make(endpoint: base, apiKey: env[recipe.string("llm.api_key_env") ?? "OPENAI_API_KEY"],
                                         workspace: workspace, recipe: recipe)
            } else if let checkpoint {
                // No server: score the checkpoint through the bundled trainer's eval_mcq.py.
                let trainerDir = try DSBuild.Train.trainerDirectory(nil)
                let venvPython = trainerDir.appendingPathComponent(".venv/bin/python").path
                let python = self.python ?? recipe.string("train.python")
                    ?? (FileManager.default.isExecutableFile(atPath: venvPython) ? venvPython : "python3")
                var local = LocalCheckpointChat.Settings(
                    python: python, script: trainerDir.appendingPathComponent("eval_mcq.py"),
                    checkpoint: URL(fileURLWithPath: checkpoint).standardizedFileURL, condition: cond,
                    imagesDirectory: settings.imagesDirectory)
                if let device = recipe.string("train.device") { local.device = device }
                chat = try LocalCheckpointChat.prepare(local, questions: questionList, circular: settings.circular)
            } else {
                throw ValidationError("no endpoint: pass --endpoint URL, set OPENAI_BASE_URL, or score a local --checkpoint DIR")
            }
            let evaluator = Evaluator(chat: chat, settings: settings, progress: options.makeProgress())
            let (report, answers) = try await Interruption.cancellable { try await evaluator.run(questionList, source: source) }
            for answer in answers {
                if let error = answer.error { Output.error(error.contains(answer.question.id) ? error : "question \(answer.question.id): \(error)") }
            }
            if let answersFile { try EvalAnswerFile.write(answers, to: URL(fileURLWithPath: answersFile)) }
            var stored: Int64?
            if let workspace {
                let trainRun = try checkpoint.flatMap { try EvalStore.trainRunID(forCheckpoint: $0, in: workspace) }
                stored = try EvalStore.store(report, label: label ?? recipe.string("eval.label"), trainRunID: trainRun, runID: nil, in: workspace)
            }
            if options.json {
                var json = report.json
                json["stored_id"] = stored.map { $0 as Any } ?? NSNull()
                Output.json(json)
            } else {
                print(report.text)
            }
            try Interruption.exitIfInterrupted("eval")
            if report.errors > 0 { throw ExitCode(1) }
        }
    }
}
