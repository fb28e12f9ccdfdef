import Dataset
import Foundation
import Synchronization
import Testing
import _DSBuildTestSupport
@testable import Train

/// A scripted model: answers each request with `answer(request)`, and keeps every request it saw.
final class ScriptedChat: ChatService {
    let answer: @Sendable (ChatRequest) -> String
    let seen = Mutex<[ChatRequest]>([])

    init(_ answer: @escaping @Sendable (ChatRequest) -> String) { self.answer = answer }

    func complete(_ request: ChatRequest) async throws(ChatError) -> ChatResult {
        seen.withLock { $0.append(request) }
        return ChatResult(text: answer(request), usage: ChatUsage(), fromCache: false, requestKey: "k", finishReason: "stop",
                          model: request.model, attempts: 1)
    }

    var requests: [ChatRequest] { seen.withLock { $0 } }
}

extension ChatRequest {
    /// The text of the (single) user turn.
    var promptText: String {
        messages.flatMap(\.parts).compactMap { if case .text(let t) = $0 { t } else { nil } }.joined(separator: "\n")
    }
}

/// The letter the key says for a prompt, by looking the prompt up among the questions.
func answerKey(_ questions: [Question]) -> @Sendable (ChatRequest) -> String {
    var table: [String: String] = [:]
    for q in questions {
        for shift in 0..<q.options.count {
            let r = q.rotated(by: shift)
            table[ChatTemplates.mcqPrompt(question: r.question, options: r.options)] = ChatTemplates.letters[r.answer]
        }
    }
    let frozen = table
    return { request in
        let text = request.promptText
        let prompt = text.components(separatedBy: "\n\n").last ?? text
        return frozen[prompt] ?? "?"
    }
}

@Suite("eval")
struct EvalTests {
    static let extractionCases: [(String, Int?)] = [
        ("A", 0), ("(B)", 1), ("C.", 2), ("Answer: D", 3), ("The answer is B.", 1), ("answer is (c)", 2),
        ("Bungeo-ppang", 0), ("It is dakjuk.", 2), ("**B**", 1), ("I think it's A", 0),
        ("I cannot tell", nil), ("", nil), ("A or B", nil), ("E", nil),
    ]

    @Test(arguments: extractionCases)
    func letterExtraction(_ reply: String, _ expected: Int?) {
        let options = ["Bungeo-ppang", "Hwangnam-ppang", "Dakjuk", "Ice cream"]
        #expect(LetterExtractor.extract(reply, options: options) == expected)
    }

    @Test func wilsonIntervalMatchesTheFormula() {
        let ci = EvalScore.wilson(correct: 8, n: 10)
        #expect(abs(ci.low - 0.49016247153664183) < 1e-12)
        #expect(abs(ci.high - 0.9433178485456247) < 1e-12)
        let zero = EvalScore.wilson(correct: 0, n: 10)
        #expect(zero.low == 0 && abs(zero.high - 0.2775327998628892) < 1e-12)
        let all = EvalScore.wilson(correct: 10, n: 10)
        #expect(abs(all.low - 0.7224672001371107) < 1e-12 && abs(all.high - 1) < 1e-12)
    }

    static func tenQuestions() -> [Question] {
        (0..<10).map { i in
            Question(id: "q\(i)", type: i < 6 ? 1 : 2, question: "Question \(i)?", options: ["w\(i)", "x\(i)", "y\(i)", "z\(i)"],
                         answer: i % 4, category: i % 2 == 0 ? "Food" : "Clothing")
        }
    }

    @Test func scriptedAnswersGiveExactAccuraciesAndUnparsedCounts() async throws {
        let questions = Self.tenQuestions()
        let key = answerKey(questions)
        // Right on q0–q6 except q3 (wrong letter); q7 unparsed; q8 answered by option text (right); q9 wrong.
        let chat = ScriptedChat { request in
            let right = key(request)
            let text = request.promptText
            if text.hasPrefix("Question 3?") { return right == "A" ? "B" : "A" }
            if text.hasPrefix("Question 7?") { return "I am not sure." }
            if text.hasPrefix("Question 8?") { return "w8" }
            if text.hasPrefix("Question 9?") { return "(A)" }
            return "Answer: \(right)"
        }
        var settings = EvalSettings(model: "m")
        settings.condition = .noImage
        let (report, answers) = try await Evaluator(chat: chat, settings: settings).run(questions, source: "test")
        #expect(answers.count == 10)
        #expect(report.overall == EvalScore(n: 10, correct: 7, unparsed: 1))
        #expect(report.byType[1] == EvalScore(n: 6, correct: 5, unparsed: 0))
        #expect(report.byType[2] == EvalScore(n: 4, correct: 2, unparsed: 1))
        #expect(report.byCategory["Food"]?.n == 5)
        let json = report.json
        let overall = try #require(json["overall"] as? [String: Any])
        #expect(overall["accuracy"] as? Double == 0.7)
        #expect(overall["unparsed"] as? Int == 1)
        let byType = try #require(json["by_type"] as? [String: [String: Any]])
        #expect(byType["1"]?["correct"] as? Int == 5)
        #expect(byType["2"]?["n"] as? Int == 4)
        let ci = try #require(overall["ci95"] as? [Double])
        let expected = EvalScore.wilson(correct: 7, n: 10)
        #expect(ci == [expected.low, expected.high])
        #expect(chat.requests.allSatisfy { $0.maxTokens == 3 && $0.purpose == "eval" && $0.temperature == 0 })
    }

    @Test func noImageRequestsCarryNoImageAndWithImageRequestsCarryOne() async throws {
        let images = TestPaths.kViscuitImages
        let questions = [Question(id: "a", type: 1, question: "What?", options: ["p", "q"], answer: 0, imagePath: "1.jpg")]
        for condition in [EvalCondition.noImage, .withImage] {
            let chat = ScriptedChat { _ in "A" }
            var settings = EvalSettings(model: "m")
            settings.condition = condition
            settings.imagesDirectory = images
            // 1.jpg is upright and 2264×1698: within this limit the downscaler sends it as stored, byte for byte.
            settings.imageMaxSide = 4096
            _ = try await Evaluator(chat: chat, settings: settings).run(questions, source: "t")
            let request = try #require(chat.requests.first)
            let imageParts = request.messages.flatMap(\.parts).filter { if case .image = $0 { true } else { false } }
            #expect(imageParts.count == (condition == .withImage ? 1 : 0))
            if condition == .withImage, case .image(let data, let mime) = imageParts[0] {
                #expect(data == (try Data(contentsOf: images.appendingPathComponent("1.jpg"))))
                #expect(mime == "image/jpeg")
            }
            #expect(request.promptText.hasSuffix("Answer with the option's letter from the given choices directly."))
            #expect(request.promptText.contains("A. p\nB. q"))
        }
    }

    @Test func descriptionOnlyPutsTheKeywordsDescriptionInPlaceOfTheImage() async throws {
        let questions = [Question(id: "a", type: 1, question: "What?", options: ["p", "q"], answer: 1, keyword: "Gat")]
        let chat = ScriptedChat { _ in "B" }
        var settings = EvalSettings(model: "m")
        settings.condition = .descriptionOnly
        settings.descriptions = ["Gat": "A black horsehair hat."]
        let (report, _) = try await Evaluator(chat: chat, settings: settings).run(questions, source: "t")
        #expect(report.overall.correct == 1)
        #expect(chat.requests[0].promptText.hasPrefix("Description: A black horsehair hat.\n\nWhat?"))
        #expect(!chat.requests[0].messages[0].hasImage)
    }

    @Test func circularEvalNeedsEveryRotationRight() async throws {
        let questions = Self.tenQuestions()
        let key = answerKey(questions)
        var settings = EvalSettings(model: "m")
        settings.condition = .noImage
        settings.circular = true
        let keyed = ScriptedChat(key)
        let (perfect, _) = try await Evaluator(chat: keyed, settings: settings).run(questions, source: "t")
        #expect(perfect.overall == EvalScore(n: 10, correct: 10, unparsed: 0))
        #expect(keyed.requests.count == 40)
        // Always "A" is right once per question out of four rotations: never right under CircularEval…
        let (alwaysA, _) = try await Evaluator(chat: ScriptedChat { _ in "A" }, settings: settings).run(questions, source: "t")
        #expect(alwaysA.overall.correct == 0)
        // …while the plain score of always-A is the share of A answers (q0, q4, q8).
        settings.circular = false
        let (plainA, _) = try await Evaluator(chat: ScriptedChat { _ in "A" }, settings: settings).run(questions, source: "t")
        #expect(plainA.overall.correct == 3)
    }

    // MARK: K-Viscuit's real 657 questions

    @Test func kViscuitAnswerKeyScoresFullMarksAndAlwaysAScoresTheShareOfA() async throws {
        let (format, questions) = try QuestionFileReader.read(TestPaths.kViscuitAnnotations)
        #expect(format == .kViscuit)
        #expect(questions.count == 657)
        // The true share of A answers, straight from the file.
        let lines = try String(contentsOf: TestPaths.kViscuitAnnotations, encoding: .utf8).split(separator: "\n")
        let answers = try lines.map { try #require((try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["answer"] as? Int) }
        let aCount = answers.filter { $0 == 0 }.count
        var settings = EvalSettings(model: "scripted")
        settings.condition = .noImage
        settings.concurrency = 8
        let (keyed, _) = try await Evaluator(chat: ScriptedChat(answerKey(questions)), settings: settings).run(questions, source: "k-viscuit")
        #expect(keyed.overall == EvalScore(n: 657, correct: 657, unparsed: 0))
        #expect(keyed.byType[1]?.n == 237 && keyed.byType[2]?.n == 420)
        let (alwaysA, _) = try await Evaluator(chat: ScriptedChat { _ in "A" }, settings: settings).run(questions, source: "k-viscuit")
        #expect(alwaysA.overall.correct == aCount)
        #expect(alwaysA.overall.accuracy == Double(aCount) / 657)
        #expect(alwaysA.overall.unparsed == 0)
    }

    @Test func kViscuitWithImageSendsEachQuestionsImage() async throws {
        let (_, all) = try QuestionFileReader.read(TestPaths.kViscuitAnnotations)
        let questions = Array(all.filter { FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath ?? "").path) }.prefix(20))
        var settings = EvalSettings(model: "scripted")
        settings.imagesDirectory = TestPaths.kViscuitImages
        let chat = ScriptedChat(answerKey(questions))
        let (report, _) = try await Evaluator(chat: chat, settings: settings).run(questions, source: "k-viscuit")
        #expect(report.overall.correct == 20)
        #expect(chat.requests.allSatisfy { $0.messages[0].hasImage })
    }

    // MARK: Files and storage

    @Test func butterflyAndDsbuildFormatsAreDetected() throws {
        let butterfly = """
            {"question_id": 7, "image": "img/7.jpg", "question": "Which species?", "A": "Monarch", "B": "Viceroy", "C": "Queen", "D": "Soldier", "answer": "B", "category": "Nymphalidae"}
            """
        let (f1, q1) = try QuestionFileReader.parse(butterfly, file: "b.jsonl")
        #expect(f1 == .butterfly)
        #expect(q1 == [Question(id: "7", type: 0, question: "Which species?", options: ["Monarch", "Viceroy", "Queen", "Soldier"],
                                    answer: 1, category: "Nymphalidae", imagePath: "img/7.jpg")])
        let ds = """
            {"id": "q-1", "type": 2, "question": "Why?", "options": ["a", "b", "c"], "answer": 2, "image": "x.png", "keyword": "Gat"}
            """
        let (f2, q2) = try QuestionFileReader.parse(ds, file: "d.jsonl")
        #expect(f2 == .dsbuild)
        #expect(q2.first?.keyword == "Gat" && q2.first?.answer == 2 && q2.first?.type == 2)
        #expect(throws: QuestionFileError.self) { try QuestionFileReader.parse(#"{"question": "x", "options": ["a", "b"], "answer": 5}"#, file: "bad") }
    }

    @Test func resultsAreStoredAndComparedSideBySide() async throws {
        let fixture = try FixtureWorkspace(images: 3, testEvery: 1)
        let questions = try EvalStore.questions(in: fixture.workspace, split: "test")
        #expect(questions.count == fixture.summary.testQuestions)
        #expect(questions.allSatisfy { $0.imagePath.map { FileManager.default.fileExists(atPath: $0) } == true })
        var settings = EvalSettings(model: "base")
        settings.condition = .withImage
        let (base, _) = try await Evaluator(chat: ScriptedChat { _ in "A" }, settings: settings).run(questions, source: "workspace:test")
        settings.model = "tuned"
        let (tuned, _) = try await Evaluator(chat: ScriptedChat(answerKey(questions)), settings: settings).run(questions, source: "workspace:test")
        try EvalStore.store(base, label: "base", trainRunID: nil, runID: nil, in: fixture.workspace)
        try EvalStore.store(tuned, label: "paired", trainRunID: nil, runID: nil, in: fixture.workspace)
        let rows = try EvalStore.compare(in: fixture.workspace)
        #expect(rows.count == 2)
        let text = EvalStore.compareText(rows)
        #expect(text.contains("paired") && text.contains("100.0%"))
        settings.condition = .descriptionOnly
        settings.descriptions = try EvalStore.descriptions(in: fixture.workspace)
        #expect(settings.descriptions.count == 3)
        let (described, _) = try await Evaluator(chat: ScriptedChat(answerKey(questions)), settings: settings).run(questions, source: "workspace:test")
        #expect(described.overall.correct == questions.count)
    }
}
