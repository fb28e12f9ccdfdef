import _DSBuildTestSupport
import Dataset
import Foundation
import Generate
import GRDB
import Logging
import Testing

@Suite struct MCQTests {
    @Test(arguments: [
        ("Which sauce is brushed on galbi?", ["soy", "ketchup", "mayo", "mustard"], "soy", nil as String?),
        ("Which sauce is brushed on galbi?", ["soy", "ketchup", "mayo", "mustard", "honey"], "soy", "option_count"),
        ("Which sauce is brushed on galbi?", ["Soy.", "soy", "mayo", "mustard"], "soy", "duplicate_options"),
        ("Which sauce is brushed on galbi?", ["soy", "ketchup", "mayo", "None of the above"], "soy", "catch_all_option"),
        ("Which sauce is brushed on galbi?", ["soy", "ketchup", "mayo", "mustard"], "pear juice", "answer_not_in_options"),
        ("Is soy sauce brushed on galbi?", ["soy sauce", "ketchup", "mayo", "mustard"], "soy sauce", "answer_in_stem"),
        ("Why?", ["soy", "ketchup", "mayo", "mustard"], "soy", "question_too_short"),
    ])
    func validatorDecisions(_ question: String, _ options: [String], _ answer: String, _ reason: String?) {
        #expect(MCQValidator().check(question: question, options: options, answer: answer, type: 2)?.0 == reason)
    }

    @Test func type1StemMustNotNameTheKeyword() {
        #expect(MCQValidator().check(question: "Is this Galbi or another food?", options: ["Galbi", "Yukhoe", "Bossam", "Kimchi"],
                                     answer: "Galbi", keyword: "Galbi", type: 1)?.0 == "answer_in_stem")
    }

    @Test func balancingIsReproducibleAndWithinFivePercentOnAThousandQuestions() {
        // Worst case input: every answer at A.
        let questions = (0..<1000).map { Question(id: "q\($0)", type: 2, question: "Question \($0)?", options: ["right", "w1", "w2", "w3"], answer: 0) }
        let a = AnswerBalancer.balance(questions, seed: 7)
        let b = AnswerBalancer.balance(questions, seed: 7)
        #expect(a == b)
        #expect(a.count == 1000)
        let histogram = AnswerBalancer.histogram(a)
        #expect(histogram.allSatisfy { abs($0 - 250) <= 12 }, "\(histogram)")
        #expect(a.allSatisfy { $0.options[$0.answer] == "right" && Set($0.options) == ["right", "w1", "w2", "w3"] })
        let c = AnswerBalancer.balance(questions, seed: 8)
        #expect(c != a)
    }

    @Test func rebalancingTheQuestionsBeingCreatedKeepsTwoQuestionsOfOneImageOnDistinctLetters() {
        // 40 questions, two per image, placed A and B: rebalancing must reach 10 per letter without ever giving
        // both questions of one image the same letter, and keep every answer's text.
        let questions = (0..<40).map { n in
            Question(id: "q\(n)", type: 1, question: "What is this \(n)?", options: ["right", "w1", "w2", "w3"], answer: 0,
                     imageSHA256: "img\(n / 2)").permuted(n % 2 == 0 ? [0, 1, 2, 3] : [1, 0, 2, 3])
        }
        let balanced = AnswerBalancer.rebalance(questions) { $0.imageSHA256 }
        #expect(AnswerBalancer.histogram(balanced) == [10, 10, 10, 10])
        #expect(balanced.allSatisfy { $0.options[$0.answer] == "right" })
        for pair in Dictionary(grouping: balanced, by: \.imageSHA256).values {
            #expect(Set(pair.map(\.answer)).count == 2, "\(pair.map(\.id))")
        }
        #expect(AnswerBalancer.rebalance(questions) { $0.imageSHA256 } == balanced)
    }

    @Test func savingAQuestionAgainIsAnUpsertThatClearsLeakyAndPlacesOnlyAcceptedPlacedOnes() throws {
        let fixture = try GenerateFixture([KeywordEntry(text: "Galbi", category: "food")])
        let q = Question(id: "q1", type: 2, question: "Which cut is galbi?", options: ["Ribs", "Loin", "Belly", "Shank"], answer: 0,
                         split: "test", keyword: "Galbi", keywordID: 1, imageSHA256: "abc", extra: #"{"note":"x"}"#)
        func row() throws -> QuestionRow? {
            try fixture.manifest.read { db in
                try QuestionRow.fetchOne(db, sql: "SELECT q.*, k.text AS keyword FROM questions q LEFT JOIN keywords k ON k.id = q.keyword_id")
            }
        }
        try fixture.manifest.write { db in
            try QuestionStore.save(q, placed: false, in: db)
            try db.execute(sql: "UPDATE questions SET leaky = 1")
        }
        let unplaced = try #require(try row())
        #expect(unplaced.question == { var e = q; e.origin = "generated"; return e }())
        #expect(unplaced.status == "accepted" && unplaced.placedAt == nil && unplaced.leaky == true)
        // Saved again, placed: one row, placed, unchecked again.
        try fixture.manifest.write { db in try QuestionStore.save(q.permuted([1, 0, 2, 3]), requestKey: "k", in: db) }
        let placed = try #require(try row())
        #expect(placed.question.answer == 1 && placed.requestKey == "k" && placed.placedAt != nil && placed.leaky == nil)
        // Saved rejected, placed: not placed (only accepted questions are), reason kept.
        try fixture.manifest.write { db in try QuestionStore.save(q, status: "rejected", reason: "duplicate", in: db) }
        let rejected = try #require(try row())
        #expect(rejected.status == "rejected" && rejected.reason == "duplicate" && rejected.placedAt == nil && rejected.requestKey == nil)
        #expect(try fixture.manifest.read { db in try QuestionRow.fetchCount(db) } == 1)
    }

    @Test func kViscuitRoundTripKeepsEveryValue() throws {
        let fixture = try GenerateFixture([])
        let report = try MCQFiles.importFile(TestPaths.kViscuitAnnotations, imagesDirectory: TestPaths.kViscuitImages,
                                             workspace: fixture.workspace)
        #expect(report.imported == 657)
        let out = fixture.directory.path("export/export.jsonl")
        #expect(try MCQFiles.export(.kViscuit, to: out, origin: "k-viscuit", split: nil, workspace: fixture.workspace).exported == 657)
        let original = try String(contentsOf: TestPaths.kViscuitAnnotations, encoding: .utf8).split(separator: "\n")
        let exported = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
        #expect(original.count == exported.count)
        for (a, b) in zip(original, exported) {
            let x = try JSONSerialization.jsonObject(with: Data(a.utf8)) as! NSDictionary
            let y = try JSONSerialization.jsonObject(with: Data(b.utf8)) as! NSDictionary
            #expect(x == y, "\(a)\n\(b)")
        }
        // BUTTERFLY style: options in one string, the letter as the answer.
        let butterfly = fixture.directory.path("export/b.jsonl")
        _ = try MCQFiles.export(.butterfly, to: butterfly, origin: "k-viscuit", split: nil, workspace: fixture.workspace)
        let first = try JSONSerialization.jsonObject(with: Data(try String(contentsOf: butterfly, encoding: .utf8).split(separator: "\n")[0].utf8)) as! [String: Any]
        #expect(first["options"] as? String == "A) Bungeo-ppang B) Hwangnam-ppang C) Dakjuk D) Ice cream")
        #expect(first["answer"] as? String == "A")
        #expect(first["question_type"] as? String == "1")
    }

    @Test(arguments: LetterReplyCorpus.cases)
    func blindCheckReadsRepliesAsEvalDoes(_ reply: String, _ expected: Int?) {
        #expect(BlindCheck.letter(in: reply, options: LetterReplyCorpus.options) == expected)
    }

    @Test func type1QuestionsUseSiblingsAndTwoOfOneImageDiffer() throws {
        let foods = ["Galbi", "Yukhoe", "Bossam", "Kimchi", "Japchae", "Bibimbap"]
        let fixture = try GenerateFixture(foods.map { KeywordEntry(text: $0, category: "Food") } + [KeywordEntry(text: "Hanbok", category: "Clothing")])
        let sha = try fixture.addKeptImage("1.jpg", keyword: "Galbi")
        try fixture.addKeptImage("10.jpg", keyword: "Hanbok")
        var settings = MCQSettings()
        settings.perImage = 2
        settings.seed = 3
        let counts = try MCQPipeline.buildType1(settings: settings, manifest: fixture.manifest)
        #expect(counts.type1Accepted == 2)
        #expect(counts.type1Rejected == 1)   // Hanbok has no sibling in its category
        let questions = try fixture.manifest.read { db in try QuestionStore.accepted(in: db) }
        #expect(questions.allSatisfy { $0.imageSHA256 == sha && $0.options.count == 4 && $0.options[$0.answer] == "Galbi" })
        #expect(questions.allSatisfy { Set($0.options).isSubset(of: Set(foods)) })
        #expect(questions[0].question == "What is the name of the food in this image?")
        #expect(Set(questions[0].options) != Set(questions[1].options))
        #expect(questions[0].answer != questions[1].answer)
        // Reproducible.
        let again = try fixture.manifest.read { db in try Type1Builder.build(settings: settings, in: db).map(\.0) }
        #expect(again.filter { $0.keyword == "Galbi" } == questions.map { var q = $0; q.split = "train"; return q })
    }

    @Test func type2AdversarialOutputsAreReaskedOrRejected() async throws {
        let foods = ["Galbi", "Yukhoe", "Bossam", "Kimchi"]
        let fixture = try GenerateFixture(foods.map { KeywordEntry(text: $0, category: "food") })
        try fixture.manifest.write { db in
            for food in foods {
                try db.execute(sql: """
                    INSERT INTO descriptions (keyword_id, aspect, mode, language, template_sha256, model, text, status, created_at)
                    SELECT id, 'visual', 'text-only', 'en', 't', 'm', ?, 'accepted', 0 FROM keywords WHERE text = ?
                    """, arguments: ["\(food) is a Korean dish.", food])
            }
        }
        // Every Type 2 question is asked with an image of its keyword: one kept image each, all training images.
        for (food, file) in zip(foods, ["1.jpg", "10.jpg", "100.jpg", "101.jpg"]) { try fixture.addKeptImage(file, keyword: food) }
        try fixture.manifest.write { db in _ = try ExperimentSplit.assign(SplitSettings(), in: db) }
        @Sendable func reply(_ question: String, _ answer: String, _ distractors: [String]) -> FakeChatEndpoint.Behaviour {
            let object: [String: Any] = ["question": question, "answer": answer, "distractors": distractors, "aspect": "ingredients", "rationale": "Because."]
            return .content(String(decoding: try! JSONSerialization.data(withJSONObject: object, options: .sortedKeys), as: UTF8.self))
        }
        let endpoint = FakeChatEndpoint(schemaSupport: .ignored) { body in
            let messages = body["messages"] as? [[String: Any]] ?? []
            let prompt = messages.compactMap { $0["content"] as? String }.joined(separator: "\n")
            let reasked = messages.count > 1
            if prompt.contains("\"Galbi\"") { return reply("Which fruit is used to tenderise the marinade?", "Asian pear", ["Banana", "Mango", "Lemon"]) }
            if prompt.contains("\"Yukhoe\"") { return reply("What is raw beef seasoned with in this dish?", "Sesame oil", ["Olive oil", "Butter", "Lard", "Ghee"]) }
            if prompt.contains("\"Bossam\"") {
                return reasked ? reply("Which meat is boiled for this dish?", "Pork belly", ["Chicken", "Duck", "Lamb"])
                               : reply("Which meat is boiled for this dish?", "Pork belly", ["pork belly.", "Duck", "Lamb"])
            }
            return reply("Is kimchi fermented cabbage or raw cabbage?", "Kimchi", ["Sauerkraut", "Pickles", "Slaw"])
        }
        let (client, _, dir) = try makeClient(endpoint, workspace: fixture.workspace, maxReasks: 2)
        _ = dir
        var settings = MCQSettings()
        settings.model = "fake-model"
        let runner = StageRunner(manifest: fixture.manifest, progress: ProgressReporter(style: .quiet), logger: Logger(label: "t"))
        let summary = try await runner.run(Type2Stage(settings: settings, client: client), concurrency: 2)
        #expect(summary.pending == 4)
        let rows = try fixture.manifest.read { db in
            try Row.fetchAll(db, sql: "SELECT k.text, q.status, q.reason || ' ' || q.extra, q.options, q.answer FROM questions q JOIN keywords k ON k.id = q.keyword_id")
        }
        let byKeyword = Dictionary(uniqueKeysWithValues: rows.map { ($0[0] as String, $0) })
        #expect(byKeyword["Galbi"]?[1] as String? == "accepted")
        #expect(byKeyword["Bossam"]?[1] as String? == "accepted")
        #expect(byKeyword["Yukhoe"]?[1] as String? == "rejected")
        #expect((byKeyword["Yukhoe"]?[2] as String?)?.contains("at most 3 items") == true)
        #expect(byKeyword["Kimchi"]?[1] as String? == "rejected")
        #expect((byKeyword["Kimchi"]?[2] as String?)?.contains("answer_in_stem") == true)
        // Galbi: one request; Bossam: one re-ask; Yukhoe and Kimchi: three answers each.
        #expect(endpoint.requestCount == 1 + 2 + 3 + 3)
        let galbi = try fixture.manifest.read { db in try QuestionStore.accepted(in: db) }.first { $0.keyword == "Galbi" }!
        #expect(galbi.options[galbi.answer] == "Asian pear")
        #expect(galbi.options.count == 4)
    }
}

@Suite struct BlindCheckTests {
    @Test(arguments: [("B", 1), ("The answer is C.", 2), ("(A)", 0), ("Pork belly", 3), ("A or B", nil as Int?)])
    func letterExtraction(_ reply: String, _ expected: Int?) {
        #expect(BlindCheck.letter(in: reply, options: ["Chicken", "Duck", "Lamb", "Pork belly"]) == expected)
    }

    @Test func questionsAnsweredRightWithoutTheImageAreFlaggedAndDropped() async throws {
        let fixture = try GenerateFixture([KeywordEntry(text: "Galbi", category: "food")])
        try fixture.manifest.write { db in
            try QuestionStore.save(Question(id: "leaky", type: 2, question: "Which is a fruit?", options: ["Stone", "Apple", "Iron", "Glass"], answer: 1), in: db)
            try QuestionStore.save(Question(id: "visual", type: 1, question: "What is the name of the food in this image?", options: ["Galbi", "Yukhoe", "Bossam", "Kimchi"], answer: 2), in: db)
        }
        let endpoint = FakeChatEndpoint { body in
            FakeChatEndpoint.lastUserText(body).contains("fruit") ? .content("B") : .content("A")
        }
        let (client, _, dir) = try makeClient(endpoint, workspace: fixture.workspace)
        _ = dir
        var settings = MCQSettings()
        settings.model = "fake-model"
        settings.blindRepeats = 3
        settings.dropLeaky = true
        let summary = try await StageRunner.quiet(fixture.workspace).run(BlindCheck(settings: settings, client: client), concurrency: 2)
        let report = BlindCheck.Report(summary)
        #expect(report.byType[2]?.leaky == 1)
        #expect(report.byType[1]?.leaky == 0)
        #expect(endpoint.requestCount == 6)   // 3 seeds per question
        let remaining = try fixture.manifest.read { db in try QuestionStore.accepted(in: db) }.map(\.id)
        #expect(remaining == ["visual"])
    }
}
