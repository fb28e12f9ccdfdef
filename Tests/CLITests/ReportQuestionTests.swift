import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

/// Case 10 of issue 15: the report's question samples rendered as a GRDB debug dump
/// (`SQL(elements: [GRDB.SQL.Element…`). They now show the question, the four options and the answer.
@Suite struct ReportQuestionTests {
    let cli = CommandRunner()

    func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "'", with: "&#39;")
    }

    @Test func reportShowsEachSampleQuestionWithItsFourOptionsAndTheAnswer() throws {
        let tmp = TemporaryDirectory()
        let w = tmp.path("w")
        #expect(try cli.run(["init", w.path]).status == 0)
        let imported = try cli.run(["mcq", "--workspace", w.path, "--import-k-viscuit", TestPaths.kViscuitAnnotations.path, "--json"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let report = try cli.run(["report", "--workspace", w.path, "--out", tmp.path("report").path])
        #expect(report.status == 0, "\(report.stderr)")
        let html = try String(contentsOf: tmp.path("report/index.html"), encoding: .utf8)
        #expect(!html.contains("SQL(elements"), "no debug dump")
        #expect(!html.contains("GRDB."))
        // The first sample of each type is the first accepted question of that type, as the manifest holds it.
        for type in ["1", "2"] {
            let row = try #require(try Hardening.rows(w, """
                SELECT question, options, answer FROM questions WHERE status = 'accepted' AND type = \(type) ORDER BY id LIMIT 1
                """).first)
            let options = try #require(try JSONSerialization.jsonObject(with: Data(row[1].utf8)) as? [String])
            #expect(options.count == 4)
            let answer = try #require(Int(row[2]))
            let letters = ["A", "B", "C", "D"]
            let rendered = options.enumerated().map { i, o in
                i == answer ? "<b>\(letters[i]). \(escape(o))</b>" : "\(letters[i]). \(escape(o))"
            }.joined(separator: "<br>")
            #expect(html.contains("<i>Type \(type)</i> \(escape(row[0]))<br>\(rendered)<br><i>answer: \(letters[answer])</i>"),
                    "type \(type): \(row[0])")
        }
    }
}
