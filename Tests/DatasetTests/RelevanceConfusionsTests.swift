import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

/// The confusion table counts the judge's choices only: a relevance drop that is no verdict — an image that cannot
/// be shown to the judge (`judge=unreadable_image`), a keyword named like the none option (`keyword=none_option`) —
/// is not an image "taken for" a sibling, and cannot make a keyword a likely label error.
@Suite struct RelevanceConfusionsTests {
    let tmp = TemporaryDirectory("dsbuild-confusions")

    static let probe = ProbedImage(format: "jpeg", width: 640, height: 480, displayWidth: 640, displayHeight: 480, orientation: 1,
                                   animated: false, frames: nil, rights: [:], details: [:])

    @Test func dropsWithoutAVerdictAreNotConfusions() throws {
        let w = try Workspace.create(at: tmp.path("ws"))
        let table = try w.manifest.write { db -> RelevanceConfusions in
            for text in ["Monarch", "Viceroy", RelevanceConfusions.noneOption] {
                try db.execute(sql: "INSERT INTO keywords(text, extra, created_at) VALUES (?, '{}', 0)", arguments: [text])
            }
            func decide(_ keyword: Int64, _ image: String, pass: Int, value: String) throws {
                try ImageRow(sha256: image, path: "images/\(image).jpg", bytes: 1, probe: Self.probe).insertIfNew(db)
                try FilterDecisionRow(pair: KeywordImage(keywordID: keyword, sha256: image), rule: RelevanceConfusions.rule, settingsHash: "h",
                                      pass: pass, value: value, threshold: ">= 0.5", reason: "r", decidedAt: 0).upsert(db)
            }
            try decide(1, "a1", pass: 1, value: "Monarch")
            try decide(1, "a2", pass: 0, value: "judge=unreadable_image")
            try decide(1, "a3", pass: 0, value: "judge=unreadable_image")
            try decide(2, "b1", pass: 0, value: "Monarch")
            try decide(3, "c1", pass: 0, value: "keyword=none_option")
            return try RelevanceConfusions.load(db)
        }
        #expect(table.rows.keys.sorted() == ["Monarch", "Viceroy"], "\(table.rows)")
        #expect(table.rows["Monarch"]?.judged == 1 && table.rows["Monarch"]?.shown == 1 && table.rows["Monarch"]?.takenFor == [:])
        #expect(table.rows["Viceroy"]?.judged == 1 && table.rows["Viceroy"]?.takenFor == ["Monarch": 1])
        #expect(table.likelyLabelErrors.map(\.keyword) == ["Viceroy"])
    }
}
