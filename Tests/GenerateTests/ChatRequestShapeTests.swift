import Dataset
import Testing

/// A reply to a request with a `lead` and `stop` strings, as the model meant it, whatever the server does with them:
/// llama.cpp returns the continued turn whole; another server the continuation alone, with or without its space, or
/// the lead in another case; a server that ignores `stop` runs on past it.
struct ChatRequestShapeTests {
    let request = ChatRequest(model: "m", messages: [.user("Encyclopedia of food\n\nKimchi\n\nAppearance: ")], purpose: "describe.visual",
                              stop: ["\n\n"], lead: "Kimchi")

    @Test(arguments: [
        ("Kimchi is red.", "Kimchi is red."),
        (" is red.", "Kimchi is red."),
        ("is red.", "Kimchi is red."),
        (", a side dish, is red.", "Kimchi, a side dish, is red."),
        ("kimchi is red.", "kimchi is red."),
        ("Kimchi is red.\n\nEncyclopedia of food\n\nBulgogi\n\nAppearance: Bulgogi is brown.", "Kimchi is red."),
        (" is red.\n\nBulgogi", "Kimchi is red."),
    ])
    func theReplyIsTheLeadAndItsContinuationUpToTheStop(reply: String, expected: String) {
        #expect(request.shaped(reply) == expected)
    }

    @Test func aRequestWithNeitherIsTheReplyAsItCame() {
        let plain = ChatRequest(model: "m", messages: [.user("x")], purpose: "p")
        #expect(plain.shaped("A.\n\nB.") == "A.\n\nB.")
    }
}
