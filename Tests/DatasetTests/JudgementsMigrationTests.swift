import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

/// Migration `v8-judgements` on a manifest an older dsbuild left at v7: the `questions` table is rebuilt so its
/// status may be `disputed`, with every column in its order, every row with its rowid and its index kept; the
/// `judgements` table is created.
@Suite struct JudgementsMigrationTests {
    let tmp = TemporaryDirectory("dsbuild-v8")

    @Test func v8KeepsEveryQuestionColumnRowAndIndexAndAllowsDisputed() throws {
        let path = tmp.path("dsbuild.sqlite")
        let queue = try DatabaseQueue(path: path.path)
        try ManifestSchema.migrator.migrate(queue, upTo: "v7-pair-states")
        let columnsBefore = try queue.read { db in try db.columns(in: "questions").map(\.name) }
        try queue.write { db in
            try db.execute(sql: "INSERT INTO keywords(id, text, extra, created_at) VALUES (1, 'Hanbok', '{}', 0)")
            // Inserted out of id order, so the rowid order differs from the primary key's.
            for (id, status, placed) in [("t2-1-0", "accepted", 2.0), ("t1-aa-1-0", "rejected", Double?.none), ("t1-bb-1-0", "accepted", 3.0)] {
                try db.execute(sql: """
                    INSERT INTO questions (id, keyword_id, image_sha256, type, question, options, answer, aspect, rationale, category, split,
                                           status, reason, origin, model, template_sha256, request_key, leaky, extra, created_at, placed_at)
                    VALUES (?, 1, 'aa', 1, 'What is it?', '["Hanbok","Gat","Jeogori","Binyeo"]', 2, 'identity', 'why', 'clothing', 'test',
                            ?, ?, 'generated', 'm', 'tpl', 'key', 1, '{"x":1}', 1.5, ?)
                    """, arguments: [id, status, status == "rejected" ? "duplicate" : nil, placed])
            }
        }
        let before = try queue.read { db in try Row.fetchAll(db, sql: "SELECT rowid AS r, * FROM questions ORDER BY rowid") }
        #expect(before.map { $0["id"] as String } == ["t2-1-0", "t1-aa-1-0", "t1-bb-1-0"])

        try ManifestSchema.migrator.migrate(queue)
        try queue.read { db in
            #expect(try db.columns(in: "questions").map(\.name) == columnsBefore, "the columns and their order")
            let after = try Row.fetchAll(db, sql: "SELECT rowid AS r, * FROM questions ORDER BY rowid")
            #expect(after == before, "every row, every value and its rowid")
            #expect(try db.indexes(on: "questions").map(\.name).contains("questions_by_keyword"))
            #expect(try db.tableExists("judgements"))
            #expect(try db.indexes(on: "judgements").map(\.name).contains("judgements_by_keyword"))
            #expect(try db.foreignKeys(on: "questions").map(\.destinationTable) == ["keywords"])
        }
        try queue.write { db in
            try db.execute(sql: "UPDATE questions SET status = 'disputed', reason = 'wrong_key' WHERE id = 't2-1-0'")
            #expect(throws: DatabaseError.self) { try db.execute(sql: "UPDATE questions SET status = 'maybe' WHERE id = 't2-1-0'") }
            // Deleting the keyword still cascades to its questions and its verdicts.
            try JudgementRow(judge: .answerKey, subject: "t2-1-0", subjectSHA256: "s", keywordID: 1, imageSHA256: "aa", settingsHash: "h",
                             model: "m", verdict: .disputed, answer: "A", reason: "two options name the same thing", requestKey: "k").insert(db)
            try db.execute(sql: "DELETE FROM keywords WHERE id = 1")
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM questions") == 0)
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM judgements") == 0)
        }
        #expect(try queue.read { db in try ManifestSchema.migrator.appliedIdentifiers(db) }.contains("v8-judgements"))
    }
}
