import Dataset
import Foundation
import GRDB
import Imaging

/// What the model is shown besides the question.
public enum EvalCondition: String, Sendable, CaseIterable {
    case withImage = "with-image"
    /// The paper's ablation: the same question with the image removed.
    case noImage = "no-image"
    /// VLV-style: the keyword's generated description in place of the image.
    case descriptionOnly = "description-only"
}

public struct EvalSettings: Sendable {
    public var model: String
    public var condition: EvalCondition = .withImage
    public var circular = false
    public var maxTokens = 3
    public var concurrency = 4
    public var imagesDirectory: URL?
    /// The longest side of an image sent to the model (`llm.image_max_side`, as for describe): every image is
    /// made upright and at most this size (`ImageDownscaler`) before it is sent.
    public var imageMaxSide = 1024
    /// keyword → description text, for `description-only`.
    public var descriptions: [String: String] = [:]

    public init(model: String) { self.model = model }
}

/// One question's outcome (for circular: every rotation's reply).
public struct EvalAnswer: Sendable {
    public var question: Question
    public var replies: [String]
    public var chosen: [Int?]
    public var correct: Bool
    public var unparsed: Bool
    public var error: String?
}

/// The table of one evaluation: overall, by type and by category.
public struct EvalReport: Sendable {
    public var model: String
    public var condition: EvalCondition
    public var circular: Bool
    public var source: String
    public var overall = EvalScore()
    public var byType: [Int: EvalScore] = [:]
    public var byCategory: [String: EvalScore] = [:]
    public var errors = 0
    public var cached = 0

    public var json: [String: Any] {
        var types: [String: Any] = [:]
        for t in [1, 2] { types["\(t)"] = (byType[t] ?? EvalScore()).json }
        for (t, s) in byType where t != 1 && t != 2 { types["\(t)"] = s.json }
        return ["model": model, "condition": condition.rawValue, "circular": circular, "questions_source": source,
                "overall": overall.json, "by_type": types,
                "by_category": byCategory.mapValues { $0.json }, "errors": errors, "cached": cached]
    }

    /// The printed table.
    public var text: String {
        func row(_ name: String, _ s: EvalScore) -> String {
            let ci = s.confidenceInterval
            return name.padding(toLength: 22, withPad: " ", startingAt: 0)
                + String(format: "%6.1f%%  %5d/%-5d  [%5.1f, %5.1f]  unparsed %d", s.accuracy * 100, s.correct, s.n,
                         ci.low * 100, ci.high * 100, s.unparsed)
        }
        var lines = ["\(model) — \(condition.rawValue)\(circular ? " (circular)" : "") on \(source)",
                     "".padding(toLength: 22, withPad: " ", startingAt: 0) + "accuracy  correct/n    95% CI"]
        lines.append(row("Type 1 (recognition)", byType[1] ?? EvalScore()))
        lines.append(row("Type 2 (reasoning)", byType[2] ?? EvalScore()))
        lines.append(row("overall", overall))
        for (category, score) in byCategory.sorted(by: { $0.key < $1.key }) { lines.append(row("  " + category, score)) }
        if errors > 0 { lines.append("\(errors) question(s) failed to get an answer (scored wrong)") }
        return lines.joined(separator: "\n")
    }
}

public struct EvalError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Scores a model on multiple-choice questions through a `ChatService`, in the K-Viscuit convention.
public struct Evaluator: Sendable {
    public let chat: any ChatService
    public let settings: EvalSettings
    public let progress: ProgressReporter
    /// Images already prepared for the model in this run.
    private let preparedImages = PreparedImageCache()

    public init(chat: any ChatService, settings: EvalSettings, progress: ProgressReporter = ProgressReporter(style: .quiet)) {
        self.chat = chat
        self.settings = settings
        self.progress = progress
    }

    /// The request for one question under the settings' condition; `imageProblem`: why its image may not be sent.
    public func request(for question: Question, imageProblem: String? = nil) throws -> ChatRequest {
        let prompt = question.prompt
        var parts: [ChatMessage.Part] = []
        switch settings.condition {
        case .withImage:
            if let problem = imageProblem { throw EvalError(problem) }
            guard let path = question.imagePath else { throw EvalError("question \(question.id) has no image; use --condition no-image") }
            let url = path.hasPrefix("/") ? URL(fileURLWithPath: path)
                : (settings.imagesDirectory ?? URL(fileURLWithPath: ".")).appendingPathComponent(path)
            guard let data = try? Data(contentsOf: url) else {
                throw EvalError("question \(question.id): image \(url.path) cannot be read; point --images at the folder holding it")
            }
            // Nothing leaves as an image unless its first bytes say it is one.
            guard let format = ImageMagic.format(of: data.prefix(16)) else {
                throw EvalError("question \(question.id): image \(url.path) is not an image (no image signature); refused, not sent")
            }
            let sent: (data: Data, mimeType: String)
            do {
                sent = try preparedImages.prepare(url.path) {
                    try ImageDownscaler().downscale(data, mimeType: Self.mimeType(format == "jpeg" ? "jpg" : format), maxSide: settings.imageMaxSide)
                }
            } catch {
                throw EvalError("question \(question.id): image \(url.path) cannot be made upright for the model (\(error)); check the file, or score it with --condition no-image")
            }
            parts = [.image(sent.data, mimeType: sent.mimeType), .text(prompt)]
        case .noImage:
            parts = [.text(prompt)]
        case .descriptionOnly:
            guard let keyword = question.keyword, let description = settings.descriptions[keyword] else {
                throw EvalError("question \(question.id): no accepted description for its keyword \(question.keyword ?? "(unknown)")")
            }
            parts = [.text("Description: \(description)\n\n\(prompt)")]
        }
        return ChatRequest(model: settings.model, messages: [ChatMessage(role: .user, parts: parts)], temperature: 0,
                           maxTokens: settings.maxTokens, purpose: "eval")
    }

    static func mimeType(_ ext: String) -> String {
        switch ext.lowercased() {
        case "png": "image/png"
        case "webp": "image/webp"
        case "gif": "image/gif"
        default: "image/jpeg"
        }
    }

    /// Asks about every question (each rotation when circular) with bounded concurrency and scores the replies.
    /// Cancelled, it starts no further question and scores those it asked.
    public func run(_ questions: [Question], source: String) async throws -> (EvalReport, [EvalAnswer]) {
        try await run(questions.map { EvalItem($0) }, source: source)
    }

    /// As `run(_:source:)`, for questions that may carry an image problem (`QuestionFileReader.placingImages`).
    public func run(_ questions: [EvalItem], source: String) async throws -> (EvalReport, [EvalAnswer]) {
        progress.start("eval \(settings.condition.rawValue)", total: questions.count)
        let limit = max(1, settings.concurrency)
        var answers = [EvalAnswer?](repeating: nil, count: questions.count)
        var cached = 0
        try await withThrowingTaskGroup(of: (Int, EvalAnswer, Int).self) { group in
            var next = 0
            func add() {
                guard next < questions.count, !Task.isCancelled else { return }
                let index = next
                next += 1
                group.addTask { let (a, c) = try await self.answer(questions[index]); return (index, a, c) }
            }
            for _ in 0..<min(limit, questions.count) { add() }
            while let (index, answer, fromCache) = try await group.next() {
                // A question whose request the cancellation cut off was not answered, wrongly or at all: not counted.
                if Task.isCancelled && answer.error != nil { continue }
                answers[index] = answer
                cached += fromCache
                progress.advance(failed: answer.error != nil)
                add()
            }
        }
        progress.finish()
        var report = EvalReport(model: settings.model, condition: settings.condition, circular: settings.circular, source: source)
        report.cached = cached
        let done = answers.compactMap { $0 }
        for a in done {
            report.overall.add(correct: a.correct, unparsed: a.unparsed)
            report.byType[a.question.type, default: EvalScore()].add(correct: a.correct, unparsed: a.unparsed)
            report.byCategory[a.question.category ?? "(none)", default: EvalScore()].add(correct: a.correct, unparsed: a.unparsed)
            if a.error != nil { report.errors += 1 }
        }
        return (report, done)
    }

    private func answer(_ item: EvalItem) async throws -> (EvalAnswer, Int) {
        let question = item.question
        let shifts = settings.circular ? Array(0..<question.options.count) : [0]
        var replies: [String] = []
        var chosen: [Int?] = []
        var allCorrect = true
        var anyUnparsed = false
        var cached = 0
        for shift in shifts {
            let q = question.rotated(by: shift)
            let request: ChatRequest
            do {
                request = try self.request(for: q, imageProblem: item.imageProblem)
            } catch {
                // A question that cannot be asked (its image is missing…) is scored wrong and reported; the rest go on.
                return (EvalAnswer(question: question, replies: replies, chosen: chosen, correct: false, unparsed: false,
                                   error: "\(error)"), cached)
            }
            do {
                let result = try await chat.complete(request)
                if result.fromCache { cached += 1 }
                let pick = LetterExtractor.extract(result.text, options: q.options)
                replies.append(result.text)
                chosen.append(pick)
                if pick == nil { anyUnparsed = true }
                if pick != q.answer { allCorrect = false }
            } catch {
                if error.isFatal { throw error }
                return (EvalAnswer(question: question, replies: replies, chosen: chosen, correct: false, unparsed: false,
                                   error: error.description), cached)
            }
            if !allCorrect && !settings.circular { break }
        }
        return (EvalAnswer(question: question, replies: replies, chosen: chosen, correct: allCorrect, unparsed: anyUnparsed,
                           error: nil), cached)
    }
}
