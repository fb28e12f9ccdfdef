import Foundation
import Testing
@testable import Generate

/// The chat endpoint is `<base>/chat/completions` with the base's query kept after the path (Azure-style
/// `?api-version=…` endpoints), not glued onto the query.
@Suite struct CompletionsURLTests {
    @Test(arguments: [
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1/chat/completions"),
        ("http://127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1/chat/completions"),
        ("http://127.0.0.1:8080/openai/deployments/m?api-version=2024-06-01",
         "http://127.0.0.1:8080/openai/deployments/m/chat/completions?api-version=2024-06-01"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080/chat/completions"),
    ])
    func theCompletionsPathGoesBeforeTheQuery(_ base: String, _ expected: String) throws {
        let configuration = OpenAIClientConfiguration(baseURL: try #require(URL(string: base)), apiKey: nil)
        #expect(configuration.completionsURL.absoluteString == expected)
    }
}
