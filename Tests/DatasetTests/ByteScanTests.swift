import Foundation
import Testing
import _DSBuildTestSupport

/// The byte scans the shard tests use find what the String search and the regular expression they replace found.
struct ByteScanTests {
    static func regexImages(_ text: String) -> [Data] {
        let pattern = try! NSRegularExpression(pattern: #"data:image/[a-z]+;base64,([A-Za-z0-9+/=]+)"#)
        return pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { m in
            Range(m.range(at: 1), in: text).flatMap { Data(base64Encoded: String(text[$0])) }
        }
    }

    @Test(arguments: [
        "", "no url", "data:image/png;base64,", "data:image/;base64,AAAA", "data:image/jpeg;base64,/9j/4AAQ\"}",
        #"{"url": "data:image/jpeg;base64,aGVsbG8="}, {"url": "data:image/png;base64,d29ybGQ="}"#,
        "data:image/data:image/gif;base64,Zm9vYmFy!", "data:image/JPEG;base64,aGVsbG8=", "xdata:image/webp;base64,YWJj\ndata:image/png;base64,bad",
        "data:image/png;base64,aGVsbG8=data:image/png;base64,d29ybGQ=",
    ])
    func dataURLImagesAreTheRegularExpressionsMatches(_ text: String) {
        #expect(ByteScan.dataURLImages(Data(text.utf8)) == Self.regexImages(text))
    }

    @Test func containsFindsEveryOccurrenceStringContainsFinds() {
        let text = "abc0123456789abcdef\nxyz"
        for needle in ["abc", "def\nx", "xyz", "0123456789abcdef", "abd", "", "zz", text, text + "!"] {
            #expect(ByteScan.contains(Data(text.utf8), Data(needle.utf8)) == (needle.isEmpty || text.contains(needle)), "\(needle)")
        }
    }
}
