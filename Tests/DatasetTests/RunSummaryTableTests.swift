@testable import Dataset
import Foundation
import Testing

/// `RunSummary.table`: every column stays apart, whatever the width of its value.
@Suite struct RunSummaryTableTests {
    @Test func aStatusWiderThanItsColumnIsStillFollowedByASpace() {
        let row = RunSummary.StageRow(stage: "describe", status: "interrupted", done: 0, dropped: [:], failed: [:],
                                      promptTokens: 0, completionTokens: 0, cost: nil, seconds: 3)
        let line = RunSummary(rows: [row]).table.split(separator: "\n")[1]
        #expect(line.contains("interrupted 0"), "\(line)")
        let long = RunSummary.StageRow(stage: "describe-long-stage", status: "ok", done: 1234567, dropped: [:], failed: [:],
                                       promptTokens: 0, completionTokens: 0, cost: nil, seconds: 3)
        let longLine = RunSummary(rows: [long]).table.split(separator: "\n")[1]
        #expect(longLine.hasPrefix("describe-long-stage ok") && longLine.contains("1234567 "), "\(longLine)")
    }
}
