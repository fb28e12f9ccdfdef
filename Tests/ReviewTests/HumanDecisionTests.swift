import Dataset
import Foundation
import GRDB
import Review
import ReviewServer
import Testing
import _DSBuildTestSupport

/// Human review decisions through the library (what the web app's POSTs call) on workspaces built by the
/// commands, then the commands rerun: the decision overrides the automated ones and survives every rerun.
@Suite(.serialized) struct HumanDecisionTests {

    @Test func rejectedImageStaysRejectedThroughFilterWithOtherThresholdsAndLeavesTheShards() throws {
        let ws = try ReviewWorkspace.build("review-reject")
        // A kept image that trains (test-split images stay out of the shards anyway).
        let shards = try ws.shardBytes()
        let pairs = try ws.kept().sorted { $0.key < $1.key }.flatMap { kw, shas in shas.sorted().map { (kw, $0) } }
        let (keyword, sha) = try #require(pairs.first { shards.contains($0.1) }, "some kept image is in the shards before the review")
        let before = try ws.status()

        let manifest = try ws.open().manifest
        // The image's texts under its keyword: accepted before, rejected with it, back on undo.
        func acceptedTexts() throws -> Int {
            try manifest.read { db in
                try Int.fetchOne(db, sql: """
                    SELECT (SELECT COUNT(*) FROM descriptions d JOIN keywords k ON k.id = d.keyword_id
                             WHERE k.text = ?1 AND d.image_sha256 = ?2 AND d.status = 'accepted')
                         + (SELECT COUNT(*) FROM questions q JOIN keywords k ON k.id = q.keyword_id
                             WHERE k.text = ?1 AND q.image_sha256 = ?2 AND q.status = 'accepted')
                    """, arguments: [keyword, sha]) ?? 0
            }
        }
        let textsBefore = try acceptedTexts()
        #expect(textsBefore > 0, "the kept image has an accepted description or question")
        let desk = ReviewDesk(manifest: manifest, reviewer: "tester")
        try desk.decideImage(sha256: sha, keyword: keyword, .reject)
        #expect(try acceptedTexts() == 0, "its texts under the keyword are rejected with it")

        // Filter again with other thresholds (every rule decided again), then the shards.
        try ws.run(["filter", "--workspace", ws.root.path, "--min-short-side", "10", "--aspect-ratio", "0.1,10", "--quiet"])
        for command in ["describe", "mcq", "shards"] { try ws.run([command, "--workspace", ws.root.path, "--quiet"]) }
        #expect(try ws.kept()[keyword]?.contains(sha) != true, "a human reject outlives the filter rerun")
        #expect(!(try ws.shardBytes().contains(sha)), "the rejected image is in no shard")
        let after = try ws.status()
        let images0 = try #require(before["images"] as? [String: Any]), images1 = try #require(after["images"] as? [String: Any])
        #expect((images1["kept"] as? Int) == (images0["kept"] as? Int).map { $0 - 1 })
        #expect(((images1["dropped"] as? [String: Any])?["human"] as? Int) == 1)
        let reviews = try #require(after["reviews"] as? [String: Any])
        #expect(((reviews["images"] as? [String: Any])?["rejected"] as? Int) == 1)
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: ws.root.appendingPathComponent("shards/shards.json"))) as? [String: Any]
        #expect((((index?["reviews"] as? [String: Any])?["images"] as? [String: Any])?["rejected"] as? Int) == 1)

        #expect(try acceptedTexts() == 0, "and stay rejected through describe, mcq and shards")
        // Undo puts the automated decision back, texts included.
        #expect(try desk.undo() != nil)
        #expect(try ws.kept()[keyword]?.contains(sha) == true)
        #expect(try acceptedTexts() == textsBefore)
    }

    @Test func relabelledImageIsPendingForTheNewKeywordAndItsTextsFollow() throws {
        let ws = try ReviewWorkspace.build("review-relabel")
        let kept = try ws.kept()
        let keywords = kept.keys.sorted()
        let from = try #require(keywords.first { !(kept[$0] ?? []).isEmpty })
        let to = try #require(keywords.first { $0 != from })
        let sha = try #require(kept[from]?.sorted().first { !(kept[to] ?? []).contains($0) })
        let manifest = try ws.open().manifest
        func describedFor(_ keyword: String) throws -> Int {
            try manifest.read { (db: Database) throws in
                try Int.fetchOne(db, sql: """
                    SELECT COUNT(*) FROM descriptions d JOIN keywords k ON k.id = d.keyword_id
                     WHERE k.text = ? AND d.image_sha256 = ? AND d.status = 'accepted'
                    """, arguments: [keyword, sha]) ?? 0
            }
        }
        #expect(try describedFor(from) > 0)
        #expect(try describedFor(to) == 0)

        try ReviewDesk(manifest: manifest, reviewer: "tester").relabelImage(sha256: sha, from: from, to: to)
        #expect(try ws.kept()[to]?.contains(sha) == true)
        #expect(try ws.kept()[from]?.contains(sha) != true)
        #expect(try describedFor(from) == 0, "its descriptions under the old keyword are rejected with the relabel")
        // The review app's keyword list counts as kept_pairs does, and counts the two human decisions as reviewed.
        let listed = try manifest.read { db in
            try ReviewQueries.keywords(sort: .keyword, category: nil, needsReview: false, limit: 1000, offset: 0, in: db).rows
        }
        let keptNow = try ws.kept()
        #expect(listed.map(\.text) == keywords)
        for row in listed {
            #expect(row.kept == (keptNow[row.text] ?? []).count, "kept of \(row.text)")
            #expect(row.reviewed == (row.text == from || row.text == to ? 1 : 0), "reviewed of \(row.text)")
        }
        // `filter` (a rerun) counts per keyword what is kept, human decisions included, as status and kept_pairs do:
        // the relabelled image is dropped (by `human`) under its old keyword and kept under the new one.
        let filtered = try ws.run(["filter", "--workspace", ws.root.path, "--json"]).json()
        let perKeyword = try #require(filtered["per_keyword"] as? [String: [String: Int]])
        for keyword in [from, to] {
            #expect(perKeyword[keyword]?["kept"] == (keptNow[keyword] ?? []).count, "filter's kept of \(keyword)")
        }
        #expect((filtered["dropped"] as? [String: Int])?["human"] == 1)
        #expect(filtered["kept"] as? Int == keptNow.values.map(\.count).reduce(0, +))
        let text = try ws.run(["filter", "--workspace", ws.root.path]).stdout
        #expect(text.contains("    \(to): \((keptNow[to] ?? []).count) / "), "filter's table line for \(to): \(text)")
        #expect(text.contains("dropped by human: 1"))
        // Pending for the new keyword: describe writes its image-grounded description there.
        try ws.run(["describe", "--workspace", ws.root.path, "--quiet"])
        #expect(try describedFor(to) > 0, "describe wrote the relabelled image's description for its new keyword")
        try ws.run(["mcq", "--workspace", ws.root.path, "--quiet"])
        try ws.run(["shards", "--workspace", ws.root.path, "--quiet"])
        let reviews = try #require(try ws.status()["reviews"] as? [String: Any])
        #expect(((reviews["images"] as? [String: Any])?["relabelled"] as? Int) == 1)
    }

    @Test func textDecisionsSurviveDescribeAndMCQReruns() throws {
        let ws = try ReviewWorkspace.build("review-texts")
        let manifest = try ws.open().manifest
        let (descriptionID, questionID) = try manifest.read { db in
            (try Int64.fetchOne(db, sql: "SELECT id FROM descriptions WHERE status = 'accepted' ORDER BY id LIMIT 1"),
             try String.fetchOne(db, sql: "SELECT id FROM questions WHERE status = 'accepted' ORDER BY rowid LIMIT 1"))
        }
        let did = try #require(descriptionID), qid = try #require(questionID)
        let desk = ReviewDesk(manifest: manifest, reviewer: "tester")
        try desk.decideDescription(id: did, .reject)
        let original = try manifest.read { db in try Row.fetchOne(db, sql: "SELECT question, options, answer FROM questions WHERE id = ?", arguments: [qid]) }
        let edited = try desk.editQuestion(id: qid, question: "Which of these is shown? (reviewed)", options: ["one", "two", "three", "four"], answer: 2)

        for command in ["describe", "mcq", "shards"] { try ws.run([command, "--workspace", ws.root.path, "--quiet"]) }
        try manifest.read { (db: Database) throws in
            #expect(try String.fetchOne(db, sql: "SELECT status FROM descriptions WHERE id = ?", arguments: [did]) == "rejected")
            #expect(try String.fetchOne(db, sql: "SELECT status FROM questions WHERE id = ?", arguments: [qid]) == "rejected")
            let new = try #require(try Row.fetchOne(db, sql: "SELECT status, question, answer, origin FROM questions WHERE id = ?", arguments: [edited]))
            #expect(new["status"] as String == "accepted")
            #expect(new["question"] as String == "Which of these is shown? (reviewed)")
            #expect(new["answer"] as Int == 2)
            // The old version is kept as it was.
            let old = try #require(try Row.fetchOne(db, sql: "SELECT question, options, answer FROM questions WHERE id = ?", arguments: [qid]))
            #expect(old["question"] as String == original?["question"] as String?)
        }
        let status = try ws.status()
        let reviews = try #require(status["reviews"] as? [String: Any])
        #expect(((reviews["questions"] as? [String: Any])?["edited"] as? Int) == 1)
        #expect(((reviews["descriptions"] as? [String: Any])?["rejected"] as? Int) == 1)
        // The edited question is in the shards' MCQ records or the test split's questions as a new version.
        #expect(try desk.undo() != nil)
        try manifest.read { (db: Database) throws in
            #expect(try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM questions WHERE id = ?", arguments: [edited]) == 0)
            #expect(try String.fetchOne(db, sql: "SELECT status FROM questions WHERE id = ?", arguments: [qid]) == "accepted")
        }
    }

    @Test func exportedDecisionsImportIntoASecondWorkspaceBuiltByTheCommands() throws {
        let first = try ReviewWorkspace.build("review-export")
        let second = try ReviewWorkspace.build("review-import")
        let kept = try first.kept()
        let keywords = kept.keys.sorted()
        let a = try #require(keywords.first { (kept[$0] ?? []).count >= 2 } ?? keywords.first { !(kept[$0] ?? []).isEmpty })
        let b = try #require(keywords.first { $0 != a })
        let shas = try #require(kept[a]?.sorted())
        let manifest = try first.open().manifest
        let desk = ReviewDesk(manifest: manifest, reviewer: "ana")
        try desk.decideImage(sha256: shas[0], keyword: a, .reject)
        if shas.count > 1, !(kept[b] ?? []).contains(shas[1]) { try desk.relabelImage(sha256: shas[1], from: a, to: b) }
        let qid = try #require(try manifest.read { db in try String.fetchOne(db, sql: "SELECT id FROM questions WHERE status = 'accepted' ORDER BY rowid LIMIT 1") })
        try desk.editQuestion(id: qid, question: "Edited by a reviewer?", options: ["yes", "no"], answer: 0)
        let did = try #require(try manifest.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM descriptions WHERE status = 'accepted' ORDER BY id DESC LIMIT 1") })
        try desk.decideDescription(id: did, .reject)

        let file = first.tmp.path("decisions.jsonl")
        try first.run(["review", "--workspace", first.root.path, "--export", file.path, "--quiet"])
        let lines = try String(contentsOf: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == (shas.count > 1 ? 4 : 3))
        #expect(!lines.contains { $0.contains("\"item\"") || $0.contains("new_item") }, "no row ids in the export")

        let imported = try second.run(["review", "--workspace", second.root.path, "--import", file.path, "--json"]).json()
        #expect(imported["applied"] as? Int == lines.count)
        #expect(imported["failed"] as? Int == 0)
        #expect(try first.kept() == second.kept())
        #expect(NSDictionary(dictionary: try #require(first.status()["reviews"] as? [String: Any]))
                == NSDictionary(dictionary: try #require(second.status()["reviews"] as? [String: Any])))
        let accepted = { (ws: ReviewWorkspace) throws -> [String] in
            try ws.open().manifest.read { db in try String.fetchAll(db, sql: "SELECT question FROM questions WHERE status = 'accepted' ORDER BY question") }
        }
        #expect(try accepted(first) == accepted(second))
        // Importing again changes nothing.
        let again = try second.run(["review", "--workspace", second.root.path, "--import", file.path, "--json"]).json()
        #expect(again["applied"] as? Int == 0)
        #expect(again["already_present"] as? Int == lines.count)
    }
}

/// `dsbuild check` audits a workspace whose decisions a reviewer changed: a reject and edits keep it sound (an edited
/// question keeps its placed letter and counts for `letter_balance` in place of the generated one). A relabel is
/// left out: the questions mcq then creates for the newly kept pair are balanced over their own small set, as for any
/// image kept after questions exist, which `letter_balance` may flag on a workspace this small.
@Suite(.serialized) struct ReviewedWorkspaceCheckTests {
    @Test func checkPassesAfterARejectAndEdits() throws {
        let ws = try ReviewWorkspace.build("review-check")
        let baseline = try ws.cli.run(["check", "--workspace", ws.root.path])
        #expect(baseline.status == 0, "check before review: \(baseline.stdout)")
        let kept = try ws.kept()
        let keywords = kept.keys.sorted()
        let a = try #require(keywords.first { (kept[$0] ?? []).count >= 2 })
        let shas = try #require(kept[a]?.sorted())
        let manifest = try ws.open().manifest
        let desk = ReviewDesk(manifest: manifest, reviewer: "checker")
        try desk.decideImage(sha256: shas[0], keyword: a, .reject)
        let qid = try #require(try manifest.read { db in try String.fetchOne(db, sql: "SELECT id FROM questions WHERE status = 'accepted' AND type = 1 ORDER BY rowid LIMIT 1") })
        let q = try #require(try manifest.read { db in try Row.fetchOne(db, sql: "SELECT options, answer FROM questions WHERE id = ?", arguments: [qid]) })
        let options = try #require(try JSONSerialization.jsonObject(with: Data((q["options"] as String).utf8)) as? [String])
        try desk.editQuestion(id: qid, question: "Which of these is shown in the image?", options: options, answer: q["answer"])
        let did = try #require(try manifest.read { db in try Int64.fetchOne(db, sql: "SELECT id FROM descriptions WHERE status = 'accepted' ORDER BY id LIMIT 1") })
        try desk.editDescription(id: did, text: "A reviewer's description of the dish, plain and true.")
        for command in ["describe", "mcq", "shards"] { try ws.run([command, "--workspace", ws.root.path, "--quiet"]) }
        let check = try ws.cli.run(["check", "--workspace", ws.root.path])
        #expect(check.status == 0, "check after review: \(check.stdout)\(check.stderr)")
    }
}
