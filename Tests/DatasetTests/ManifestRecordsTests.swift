import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

/// The manifest's record types are the one declaration of their rows: each has exactly its table's columns (a
/// migration that adds a column must add it to the record), and a row written through one reads back equal.
@Suite struct ManifestRecordsTests {
    let tmp = TemporaryDirectory("dsbuild-records")

    func workspace() throws -> Workspace { try Workspace.create(at: tmp.path("ws-\(UUID().uuidString)")) }

    /// The column names a record writes, from a sample value.
    func columns<R: EncodableRecord>(of record: R) throws -> Set<String> {
        Set(try record.databaseDictionary.keys)
    }

    func tableColumns(_ table: String, in w: Workspace) throws -> Set<String> {
        try w.manifest.read { db in Set(try db.columns(in: table).map(\.name)) }
    }

    static let probe = ProbedImage(format: "jpeg", width: 4032, height: 3024, displayWidth: 3024, displayHeight: 4032, orientation: 6,
                                   animated: false, frames: nil, rights: ["xmp:DataMining": "prohibited"], details: ["mode": "RGB"])

    @Test func everyRecordHasExactlyItsTablesColumns() throws {
        let w = try workspace()
        let pair = KeywordImage(keywordID: 1, sha256: "ab")
        let key = DescriptionKey(keywordID: 1, imageSHA256: "", aspect: "visual", mode: "text-only", language: "en", variant: 0, templateSHA256: "t")
        let samples: [(String, Set<String>)] = [
            ("images", try columns(of: ImageRow(sha256: "ab", path: "images/ab.jpg", bytes: 1, probe: Self.probe))),
            ("candidates", try columns(of: CandidateRow(keywordID: 1, source: "commons", sourceID: "1", imageURL: "u", pageURL: nil, license: nil,
                                                        licenseURL: nil, author: nil, title: nil, description: nil, declaredWidth: nil,
                                                        declaredHeight: nil, declaredBytes: nil, declaredMime: nil, declaredSHA1: nil,
                                                        extra: [:], rank: 0))),
            ("source_searches", try columns(of: SourceSearchRow(keywordID: 1, source: "commons", status: "ok", found: 0, detail: nil))),
            ("downloads", try columns(of: DownloadRow(candidateID: 1, status: "ok", attempts: 1))),
            ("download_attempts", try columns(of: DownloadAttemptRow(candidateID: 1, run: nil, attempt: 1, url: "u", httpStatus: 200, error: nil,
                                                                     waitSeconds: nil, startedAt: 0, duration: 0))),
            ("filter_decisions", try columns(of: FilterDecisionRow(pair: pair, rule: "r", settingsHash: "h", pass: 1, value: nil, threshold: nil,
                                                                   reason: nil))),
            ("descriptions", try columns(of: DescriptionRow(key: key, model: "m", text: "x", status: "accepted", reason: nil, detail: nil,
                                                            requestKey: nil, promptTokens: 0, completionTokens: 0))),
            ("judgements", try columns(of: JudgementRow(judge: .answerKey, subject: "t1-x", subjectSHA256: "s", keywordID: 1, imageSHA256: "ab",
                                                        settingsHash: "h", model: "m", verdict: .disputed, answer: "B", reason: "r",
                                                        requestKey: "k"))),
        ]
        for (table, written) in samples {
            var expected = try tableColumns(table, in: w)
            // Columns a later step fills (the filter's pHashes), which the download never writes.
            if table == "images" { expected.subtract(["phash", "phash_fast"]) }
            #expect(written == expected, "\(table): the record writes \(written.subtracting(expected).sorted()), lacks \(expected.subtracting(written).sorted())")
        }
    }

    @Test func rowsReadBackAsWrittenAndTheUpsertsKeepOneRowPerIdentity() throws {
        let w = try workspace()
        try w.manifest.write { db in
            try db.execute(sql: "INSERT INTO keywords(text, extra, created_at) VALUES ('Hanbok', '{}', 0)")
            let image = ImageRow(sha256: "ab", path: "images/ab.jpg", bytes: 10, probe: Self.probe, createdAt: 5)
            try image.insertIfNew(db)
            var other = image
            other.bytes = 99
            try other.insertIfNew(db)  // a known image keeps its first row
            #expect(try ImageRow.fetchOne(db, key: "ab") == image)

            let pair = KeywordImage(keywordID: 1, sha256: "ab")
            try FilterDecisionRow(pair: pair, rule: "min_short_side", settingsHash: "h1", pass: 0, value: "300", threshold: "512",
                                  reason: "short", decidedAt: 1).upsert(db)
            let redecided = FilterDecisionRow(pair: pair, rule: "min_short_side", settingsHash: "h2", pass: 1, value: "300",
                                              threshold: "256", reason: "ok", decidedAt: 2)
            try redecided.upsert(db)
            #expect(try FilterDecisionRow.fetchAll(db) == [redecided], "one decision per pair and rule, the latest")
            #expect(try KeptPairs.all(in: db) == [pair])

            let key = DescriptionKey(keywordID: 1, imageSHA256: "ab", aspect: "visual", mode: "image-grounded", language: "en",
                                     variant: 0, templateSHA256: "t")
            try DescriptionRow(key: key, model: "m", text: nil, status: "failed", reason: "http_500", detail: "x", requestKey: nil,
                               promptTokens: 0, completionTokens: 0).upsert(db)
            try DescriptionRow(key: key, model: "m", text: "A red jacket.", status: "accepted", reason: nil, detail: nil, requestKey: "k",
                               promptTokens: 10, completionTokens: 4).upsert(db)
            let rows = try DescriptionRow.fetchAll(db)
            #expect(rows.count == 1 && rows[0].key == key && rows[0].status == "accepted" && rows[0].reason == nil && rows[0].text == "A red jacket.")
        }
    }

    /// `kept_pairs` reads the per-pair states the triggers maintain: after inserts, upserts, replaces, updates,
    /// deletes and a cascade from a deleted image, it is exactly the grouping definition (every decision passed).
    @Test func keptPairsStayExactlyEveryDecisionPassedThroughEveryKindOfWrite() throws {
        let w = try workspace()
        func grouped() throws -> [[String]] {
            try w.manifest.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT image_sha256, keyword_id FROM filter_decisions GROUP BY image_sha256, keyword_id HAVING MIN(pass) = 1
                     ORDER BY image_sha256, keyword_id
                    """).map { ["\($0["image_sha256"] as String)", "\($0["keyword_id"] as Int64)"] }
            }
        }
        func kept() throws -> [[String]] {
            try w.manifest.read { db in
                try Row.fetchAll(db, sql: "SELECT image_sha256, keyword_id FROM kept_pairs ORDER BY image_sha256, keyword_id")
                    .map { ["\($0["image_sha256"] as String)", "\($0["keyword_id"] as Int64)"] }
            }
        }
        try w.manifest.write { db in
            try db.execute(sql: "INSERT INTO keywords (id, text, created_at) VALUES (1, 'a', 0), (2, 'b', 0)")
            for sha in ["s1", "s2", "s3"] {
                try ImageRow(sha256: sha, path: "images/\(sha).jpg", bytes: 1, probe: Self.probe).insert(db)
            }
        }
        func decide(_ sha: String, _ keyword: Int64, _ rule: String, _ pass: Int) throws {
            try w.manifest.write { db in
                try FilterDecisionRow(pair: KeywordImage(keywordID: keyword, sha256: sha), rule: rule, settingsHash: "h", pass: pass,
                                      value: nil, threshold: nil, reason: nil, decidedAt: 0).upsert(db)
            }
        }
        try decide("s1", 1, "size", 1); try decide("s1", 1, "duplicates", 1)
        try decide("s2", 1, "size", 1); try decide("s2", 1, "duplicates", 0)
        try decide("s3", 1, "size", 1); try decide("s3", 2, "size", 1); try decide("s3", 2, "duplicates", -1)
        #expect(try kept() == [["s1", "1"], ["s3", "1"]])
        #expect(try kept() == grouped())
        try decide("s2", 1, "duplicates", 1)   // upsert turns a drop into a pass
        try decide("s1", 1, "size", 0)         // and a pass into a drop
        try decide("s3", 2, "duplicates", 1)   // an undecided pair decided
        #expect(try kept() == [["s2", "1"], ["s3", "1"], ["s3", "2"]])
        #expect(try kept() == grouped())
        try w.manifest.write { db in
            try db.execute(sql: "DELETE FROM filter_decisions WHERE image_sha256 = 's1' AND rule = 'size'")  // s1 passes its one left
            try db.execute(sql: "INSERT OR REPLACE INTO filter_decisions (image_sha256, keyword_id, rule, settings_hash, pass, decided_at) VALUES ('s2', 1, 'size', 'h2', 0, 0)")
            try db.execute(sql: "UPDATE filter_decisions SET keyword_id = 1 WHERE image_sha256 = 's3' AND keyword_id = 2 AND rule = 'duplicates'")
            try db.execute(sql: "DELETE FROM images WHERE sha256 = 's3'")  // cascades to its decisions
        }
        #expect(try kept() == [["s1", "1"]])
        #expect(try kept() == grouped())
        try w.manifest.write { db in try db.execute(sql: "DELETE FROM filter_decisions") }
        #expect(try kept().isEmpty)
        #expect(try w.manifest.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM pair_states") } == 0)
    }
}
