import Dataset
import Foundation
import Testing

/// The one redactor (issue 15, case 5): every form a key travels in is masked, and credentials recognisable by
/// their shape are masked without being registered.
@Suite(.serialized) struct SecretRedactorTests {
    static let key = "Kx+9/a=b c\r"

    @Test func everyEncodedFormOfARegisteredKeyIsMasked() {
        SecretRedactor.register(variables: ["DSB_TEST_KEY"], in: ["DSB_TEST_KEY": Self.key])
        let forms = [
            "Kx+9/a=b c\r",  // raw, with the Windows \r
            "Kx+9/a=b c",  // trimmed
            "Kx%2B9%2Fa%3Db%20c",  // strictly percent-encoded
            "Kx%2b9%2fa%3db%20c",  // lower-case hex
            "Kx%2B9%2Fa%3Db+c",  // form encoding (space as +)
            "Kx%2B9%2Fa%3Db%20c%0D",  // encoded with the \r
            "Kx+9\\/a=b c",  // JSON with escaped slashes
            "Kx+9/a=b c\\r",  // JSON-escaped \r
        ]
        for form in forms {
            let text = "GET https://api.example.org/rest?x=1&q=\(form)&y=2 failed: echo \(form)."
            let clean = SecretRedactor.redact(text)
            #expect(!clean.contains("Kx"), "form \(form.debugDescription) survived: \(clean.debugDescription)")
        }
        #expect(SecretRedactor.redact("nothing secret here") == "nothing secret here")
    }

    /// A key echoed back base64-encoded — alone, after `Bearer ` or as `user:key` Basic credentials, standard or
    /// URL-safe — cannot be decoded from the redacted text: its bytes' part of every encoding is masked.
    @Test func aBase64EncodedKeyIsMaskedWhereverItStartsInTheEncodedRun() {
        let key = "sk-b64-SECRET-0123456789"
        SecretRedactor.register(variables: ["DSB_TEST_B64_KEY"], in: ["DSB_TEST_B64_KEY": key])
        for prefix in ["", "Bearer ", "user:", "x", "ab"] {
            let encoded = Data((prefix + key + "!").utf8).base64EncodedString()
            for form in [encoded, encoded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")] {
                let clean = SecretRedactor.redact("HTTP 400: you sent \(form) back")
                #expect(clean.contains(SecretRedactor.mask), "\(prefix.debugDescription): \(clean)")
                // Whatever base64 run is left decodes to no more than 2 of the key's bytes in a row.
                for word in clean.split(separator: " ") {
                    let text = String(word).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
                    for cut in 0..<4 {
                        let chunk = String(text.dropFirst(cut))
                        let padded = chunk + String(repeating: "=", count: (4 - chunk.count % 4) % 4)
                        guard let data = Data(base64Encoded: padded) else { continue }
                        #expect(!String(decoding: data, as: UTF8.self).contains("SECRET"), "\(form) → \(clean)")
                    }
                }
            }
        }
        #expect(SecretRedactor.redact("c2hvcnQ= is fine") == "c2hvcnQ= is fine", "an unrelated base64 word stays")
    }

    @Test func credentialShapesAreMaskedWithoutRegistration() {
        let cases: [(String, String)] = [
            ("http://user:pw-123@127.0.0.1:8080/v1 refused", "pw-123"),
            ("https://alice@host.example/v1", "alice"),
            ("Authorization: Bearer sk-abcdefghijkl", "sk-abcdefghijkl"),
            (#"{"headers": {"Authorization": "Basic dXNlcjpwYXNz"}}"#, "dXNlcjpwYXNz"),
            ("https://api.flickr.com/services/rest/?method=x&api_key=unregistered987&text=gat", "unregistered987"),
            ("https://h/x?token=tok-5678&key=k-0912", "tok-5678"),
            ("https://h/x?token=tok-5678&key=k-0912", "k-0912"),
            (#"{"error": "bad", "api_key": "echoed-4455"}"#, "echoed-4455"),
            ("invalid key=plain-3344 given", "plain-3344"),
        ]
        for (text, secret) in cases {
            let clean = SecretRedactor.redact(text)
            #expect(!clean.contains(secret), "\(secret) survived in \(clean)")
            #expect(clean.contains(SecretRedactor.mask))
        }
        // What is not a credential stays readable.
        #expect(SecretRedactor.redact("monkey=banana sort_key=3 http://127.0.0.1:8080/v1") == "monkey=banana sort_key=3 http://127.0.0.1:8080/v1")
    }

    /// `HTTPError`'s half of this is `HTTPErrorRedactionTests` (HTTPTests).
    @Test func errorsAreRedactedWhereTheyAreFormatted() {
        SecretRedactor.register(secret: "sk-format-777")
        let chat = ChatError(.authentication, "HTTP 401: Incorrect API key provided: sk-format-777")
        #expect(!chat.description.contains("sk-format-777"))
    }
}
