import Dataset
import Foundation
import HTTP
import Testing

/// An `HTTPError` is redacted where it is formatted: a URL's password and a registered key never reach its text.
@Suite struct HTTPErrorRedactionTests {
    @Test func errorsAreRedactedWhereTheyAreFormatted() {
        SecretRedactor.register(secret: "sk-format-777")
        let http = HTTPError(.connectFailed, url: URL(string: "https://u:p@h.example/x?api_key=sk-format-777")!, detail: "echo sk-format-777")
        #expect(!http.description.contains("sk-format-777") && !http.description.contains(":p@"))
    }
}
