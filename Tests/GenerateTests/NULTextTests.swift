import Dataset
import Testing
@testable import Generate

/// SQLite binds text as a C string, so a NUL would cut a stored text short without a word: a description reply with
/// one is a rejection and an imported question row with one a problem, never a silently shortened text.
@Suite struct NULTextTests {
    @Test func aDescriptionWithANULIsRejected() {
        let validator = DescriptionValidator(minChars: 5, maxChars: 2000, allKeywords: ["hanbok"])
        let rejection = validator.check("The hanbok is worn \u{0}at festivals in Korea.", keyword: "hanbok", language: "en")
        #expect(rejection?.reason == "nul_character")
        #expect(validator.check("The hanbok is worn at festivals in Korea.", keyword: "hanbok", language: "en") == nil)
    }

    @Test func aGeneratedQuestionWithANULIsRejected() {
        #expect(MCQValidator().check(question: "Which is worn\u{0} on the head?", options: ["Gat", "Bowl", "Spoon", "Kite"], answer: "Gat", type: 2)?.0 == "nul_character")
        #expect(MCQValidator().check(question: "Which is worn on the head?", options: ["Gat", "Bowl", "Spo\u{0}on", "Kite"], answer: "Gat", type: 2)?.0 == "nul_character")
        #expect(MCQValidator().check(question: "Which is worn on the head?", options: ["Gat", "Bowl", "Spoon", "Kite"], answer: "Gat", type: 2) == nil)
    }

    @Test(arguments: [["question": "NUL\u{0}inside", "options": ["a", "b"], "answer": 0] as [String: any Sendable],
                      ["question": "Which?", "options": ["a", "b\u{0}c"], "answer": 0]])
    func anImportedQuestionWithANULIsAProblem(row: [String: any Sendable]) {
        #expect(throws: QuestionFormatProblem.self) { try QuestionFileFormat.kViscuit.question(from: row, line: 1) }
        var clean = row
        clean["question"] = "Which?"
        clean["options"] = ["a", "b"]
        #expect((try? QuestionFileFormat.kViscuit.question(from: clean, line: 1))?.options == ["a", "b"])
    }
}
