import Dataset
import Testing

/// The one HTML escaper of the report and the review app: markup is inert and a key an endpoint echoed is masked.
struct HTMLTextTests {
    @Test func markupIsEscapedAndAKeyIsMasked() {
        #expect(HTMLText.escape(#"<script>alert("x" & 'y')</script>"#) == "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;")
        SecretRedactor.register(secret: "sk-htmltext-CANARY-0123456789abcdef")
        let page = HTMLText.escape("the endpoint said: invalid key sk-htmltext-CANARY-0123456789abcdef; sent Bearer sk-zzzzzzzzzzzz")
        #expect(!page.contains("CANARY") && !page.contains("sk-zzzz") && page.contains(SecretRedactor.mask), "\(page)")
    }
}
