import Foundation
import Testing
@testable import Train

/// `check` reads an export's lines on bytes; they must be the lines the Character split gave.
struct ExportContentsTests {
    @Test(arguments: ["", "\n", "\n\n", "a", "a\n", "\na\nb", "{\"x\": 1}\n\n{\"y\": 2}\n", "a\r\nb\nc", "a\r\n\r\nb\n", "\r\n", "a\rb\nc",
                      "é\n\u{301}x\n", "💬\nline\n"])
    func byteLinesAreTheLinesOfTheCharacterSplit(_ text: String) {
        let expected = text.split(separator: "\n", omittingEmptySubsequences: false).map { Data($0.utf8) }
        #expect(ExportContents.lines(text) == expected, "\(Array(text.utf8))")
    }
}
