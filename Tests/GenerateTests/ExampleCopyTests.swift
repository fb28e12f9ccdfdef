@testable import Generate
import Dataset
import Testing

/// `example_copy`: what a base model copies from a document prompt's worked example is refused, and what only
/// resembles it is kept.
struct ExampleCopyTests {
    let description = DocumentPrompt.copy(of: Aspect.visual.documentSection)
    let question = DocumentPrompt.typeTwoExample.copy

    @Test(arguments: [
        ("Galbi is the red fox of Korean food, glazed and dark.", "names \"Red fox\""),
        ("Galbi is a small, slender wild dog about the size of a large plate of ribs.", "copies the prompt's worked example"),
        ("Its long, bushy tail is as red as its back and ends in a white tip.", "copies the prompt's worked example"),
    ])
    func aDescriptionThatCopiesItsExampleIsNamed(text: String, detail: String) {
        #expect(description.problem(in: text, keyword: "Galbi")?.hasPrefix(detail) == true, "\(text)")
    }

    @Test(arguments: [
        "Galbi is grilled beef short ribs, glossy and dark brown from a soy and pear marinade, cut across the bone.",
        "A fox-red glaze covers the ribs; a white dish holds them.",
    ])
    func aDescriptionOfItsOwnSubjectIsKept(text: String) {
        #expect(description.problem(in: text, keyword: "Galbi") == nil)
    }

    @Test func aKeywordThatIsTheExampleSubjectMayNameIt() {
        #expect(description.problem(in: "The red fox of the Alps has a grey winter coat.", keyword: "Red fox (alpine)") == nil)
    }

    @Test func questionsAndOptionsCopiedFromTheTypeTwoExampleAreNamed() {
        #expect(question.problem(in: "What colour is the fur on the back of a galbi?", keyword: "Galbi") != nil)
        #expect(question.problem(options: ["pale grey", "Black with white spots", "Soy sauce", "Rice"])?.hasPrefix("2 options") == true)
        #expect(question.problem(options: ["Dark brown", "Pale yellow", "Red", "Green"]) == nil, "one ordinary answer the example also has")
        #expect(question.problem(in: "Dark brown", keyword: "Galbi") == nil)
        #expect(question.problem(in: "Dark brown sauce", keyword: "Galbi") == nil, "an option only containing an example's words")
        #expect(question.problem(in: "Which sauce is galbi marinated in?", keyword: "Galbi") == nil)
    }

    @Test func theTypeTwoExampleIsTheJSONTheSchemaAsks() throws {
        let json = DocumentPrompt.typeTwoExample.json
        let parsed = try #require(Type2Stage.parse(json))
        #expect(parsed.question == DocumentPrompt.typeTwoExample.question && parsed.distractors.count == 3)
        #expect(JSONSchemaValidator(schema: Type2Stage.localSchema).validate(text: json) == nil, "the example holds to the grammar it shows")
        #expect(DocumentPrompt.typeTwo.contains("Question: " + json + "\n"))
    }
}
