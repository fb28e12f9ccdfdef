import Foundation
@testable import Generate
import Testing

/// `ReplyHygiene`, the rule describe and mcq share: chat-template tokens and echoed instructions are rejected with
/// their reason, from every model; Type 2 fragments are rejected by `MCQValidator`; ordinary answers pass.
@Suite struct ReplyHygieneTests {
    static let describeTemplate = """
        Describe what a {keyword} ({category}) looks like to someone who has never seen one. Write plain prose, \
        no lists, no headings, in {language}, about five sentences long, and do not start with the name.
        """

    @Test(arguments: ["Kimchi is red.<|im_end|>user\n<|im_start|>", "A dish <end_of_turn>", ": <start_of_image>",
                      "[INST] describe [/INST]", "Red leaves.</s>", "<think>hmm</think> A red dish"])
    func chatTemplateTokensAreFound(_ text: String) {
        #expect(ReplyHygiene.problem(in: text)?.reason == ReplyHygiene.controlTokensReason, "\(text)")
    }

    @Test func theTextBeforeAnEndOfTurnMarkerIsTheReply() {
        #expect(ReplyHygiene.beforeEndOfTurn("Red leaves in a bowl.<|im_end|>user\n<|im_start|>Describe") == "Red leaves in a bowl.")
        #expect(ReplyHygiene.beforeEndOfTurn("A dish. <end_of_turn> more") == "A dish.")
        #expect(ReplyHygiene.beforeEndOfTurn("<|im_end|>only a marker") == nil)
        #expect(ReplyHygiene.beforeEndOfTurn("No marker at all.") == nil)
        #expect(ReplyHygiene.beforeEndOfTurn("A steamed rice cake. <start_of_image> and <|pad|>") == "A steamed rice cake.",
                "any control marker ends a local reply, not only an end-of-turn one")
    }

    @Test func anEchoOfTheInstructionsIsFoundButNotTheFilledInValues() {
        let echo = "Describe what a Kimchi (food) looks like to someone who has never seen one. Write plain prose, no lists, no headings."
        #expect(ReplyHygiene.problem(in: echo, instructions: Self.describeTemplate)?.reason == ReplyHygiene.promptEchoReason)
        let own = "A shallow bowl holds a heap of deep red, glossy leaves with pale stalks, flecked with chilli flakes."
        #expect(ReplyHygiene.problem(in: own, instructions: Self.describeTemplate) == nil)
        // A question quoting the description it was written from (a placeholder's value) is no echo.
        #expect(ReplyHygiene.problem(in: "Which colour do the glossy leaves with pale stalks flecked with chilli have?",
                                     instructions: Type2Stage.template) == nil)
    }

    @Test func descriptionValidatorRejectsBothWithTheirReason() {
        let validator = DescriptionValidator(minChars: 20, maxChars: 2000, allKeywords: ["Kimchi"], instructions: Self.describeTemplate)
        let garbage = "Kimchi is a red dish of fermented cabbage.<|im_end|>user\n<|im_start|>Describe more."
        #expect(validator.check(garbage, keyword: "Kimchi", language: "en")?.reason == "control_tokens")
        let echo = "Kimchi. Write plain prose, no lists, no headings, in English, about five sentences long, and do not start."
        #expect(validator.check(echo, keyword: "Kimchi", language: "en")?.reason == "prompt_echo")
        #expect(validator.check("Kimchi is a red dish of fermented cabbage, served cold in small bowls with rice.",
                                keyword: "Kimchi", language: "en") == nil)
    }

    @Test(arguments: [
        ("The food is a", ["Kimchi", "Rice", "Soup", "Bread"], "fragment_question"),
        (">the answer. The answer must not contain the answer. Do not use", ["Kimchi", "Rice", "Soup", "Bread"], "fragment_question"),
        ("Which dish is fermented for weeks?", [": <start_of_image>", "Rice", "Soup", "Bread"], "control_tokens"),
        ("Which dish is fermented for weeks?", [": the dish", "Rice", "Soup", "Bread"], "fragment_option"),
        ("Which dish is fermented for weeks?", ["...", "Rice", "Soup", "Bread"], "fragment_option"),
        ("What is served with it? The question must not contain the answer. Name the aspect it tests?", ["Kimchi", "Rice", "Soup", "Bread"], "prompt_echo"),
    ])
    func typeTwoFragmentsAndGarbageAreRejected(question: String, options: [String], reason: String) {
        let validator = MCQValidator(instructions: Type2Stage.template)
        #expect(validator.check(question: question, options: options, answer: options[0], type: 2)?.0 == reason)
    }

    @Test func aProperTypeTwoQuestionPasses() {
        let validator = MCQValidator(instructions: Type2Stage.template)
        #expect(validator.check(question: "Which ingredient gives this dish its red colour?",
                                options: ["Chilli powder", "Soy sauce", "Sesame oil", "Rice vinegar"], answer: "Chilli powder", type: 2) == nil)
        #expect(validator.check(question: "Complete: this dish is usually stored in a", options: ["Clay jar", "Paper bag", "Glass bottle", "Tin can"],
                                answer: "Clay jar", type: 2)?.0 == "fragment_question", "an unfinished stem")
    }
}
