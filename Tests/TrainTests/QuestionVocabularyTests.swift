import Dataset
import Foundation
import Testing
import _DSBuildTestSupport
@testable import Train

/// One vocabulary for questions: eval reads replies as mcq's blind check does, and the bundled Python evaluator
/// asks the same prompt as `dsbuild eval`.
@Suite struct QuestionVocabularyTests {
    @Test func evalReadsTheReplyCorpusAsTheBlindCheckDoes() async throws {
        // Through the evaluator: one question per reply, the scripted model answering with that reply.
        let questions = LetterReplyCorpus.cases.enumerated().map { i, _ in
            Question(id: "r\(i)", type: 1, question: "Question \(i)?", options: LetterReplyCorpus.options, answer: 0)
        }
        let replies = LetterReplyCorpus.cases.map(\.reply)
        let chat = ScriptedChat { request in
            let text = request.promptText
            let index = Int(text.dropFirst("Question ".count).prefix { $0.isNumber }) ?? 0
            return replies[index]
        }
        var settings = EvalSettings(model: "scripted")
        settings.condition = .noImage
        let (report, answers) = try await Evaluator(chat: chat, settings: settings).run(questions, source: "corpus")
        for (answer, expected) in zip(answers, LetterReplyCorpus.cases.map(\.expected)) {
            #expect(answer.chosen == [expected], "\(answer.replies)")
        }
        #expect(report.overall.unparsed == LetterReplyCorpus.cases.filter { $0.expected == nil }.count)
    }

    @Test func theShippedPromptSpecIsTheVocabulary() throws {
        let url = TestPaths.repositoryRoot.appendingPathComponent("trainer/mcq_prompt.json")
        let shipped = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? NSDictionary)
        let current = try #require(try JSONSerialization.jsonObject(with: Data(QuestionVocabulary.specJSON.utf8)) as? NSDictionary)
        #expect(shipped == current, "trainer/mcq_prompt.json is stale: write QuestionVocabulary.specJSON to it")
    }

    @Test func pythonEvaluatorBuildsTheSamePromptAsSwift() throws {
        let cases: [(String, [String])] = [
            ("What is the name of the food in this image?", ["Bungeo-ppang", "Hwangnam-ppang", "Dakjuk", "Ice cream"]),
            ("Which one?", ["a", "b"]),
            ("Eight options, unicode: 갓?", ["갓", "탕건", "망건", "patterned \"quote\"", "e", "f", "g", "h"]),
        ]
        let input = try JSONSerialization.data(withJSONObject: cases.map { ["question": $0.0, "options": $0.1] })
        let trainer = TestPaths.repositoryRoot.appendingPathComponent("trainer")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import json, sys
            sys.path.insert(0, sys.argv[1])
            import eval_mcq
            print(json.dumps([eval_mcq.mcq_prompt(c["question"], c["options"]) for c in json.load(sys.stdin)]))
            """, trainer.path]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(input)
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let prompts = try #require(try JSONSerialization.jsonObject(with: output) as? [String])
        #expect(prompts == cases.map { QuestionVocabulary.prompt(question: $0.0, options: $0.1) })
    }

    @Test func theShippedReplyCorpusIsTheSwiftOne() throws {
        let url = TestPaths.repositoryRoot.appendingPathComponent("trainer/tests/letter_replies.json")
        let shipped = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? NSDictionary)
        let current = try #require(try JSONSerialization.jsonObject(with: Data(LetterReplyCorpus.json.utf8)) as? NSDictionary)
        #expect(shipped == current, "trainer/tests/letter_replies.json is stale: write LetterReplyCorpus.json to it")
    }

    @Test func pythonEvaluatorReadsTheReplyCorpusAsLetterExtractorDoes() throws {
        // What the Python evaluator's extract_letter makes of every reply, against LetterExtractor's reading.
        let trainer = TestPaths.repositoryRoot.appendingPathComponent("trainer")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", """
            import json, sys
            sys.path.insert(0, sys.argv[1])
            import eval_mcq
            corpus = json.load(sys.stdin)
            print(json.dumps([eval_mcq.extract_letter(c["reply"], corpus["options"]) for c in corpus["cases"]]))
            """, trainer.path]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(LetterReplyCorpus.json.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let letters = try #require(try JSONSerialization.jsonObject(with: output) as? [Any])
        let python = letters.map { ($0 as? String).flatMap(QuestionVocabulary.index(ofLetter:)) }
        let swift = LetterReplyCorpus.cases.map { LetterExtractor.extract($0.reply, options: LetterReplyCorpus.options) }
        #expect(python.count == LetterReplyCorpus.cases.count)
        for (i, c) in LetterReplyCorpus.cases.enumerated() {
            #expect(python[i] == swift[i], "reply \(String(reflecting: c.reply)): Python \(String(describing: python[i])), Swift \(String(describing: swift[i]))")
            #expect(swift[i] == c.expected, "reply \(String(reflecting: c.reply))")
        }
    }
}
