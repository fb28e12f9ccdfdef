import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

/// What one review action may do, through the server's POSTs and `--import` on a workspace built by the commands:
/// several selected items are one transaction and one undo; an image is decided only under a keyword it belongs to;
/// a text about an image no longer kept under its keyword cannot be accepted or edited back.
@Suite(.serialized) struct ReviewActionRulesTests {
    typealias Fixture = ReviewServerTests.Fixture

    func post(_ f: Fixture, _ form: String) throws -> LoopbackClient.Reply {
        try f.client.request("POST", f.at("/action"), headers: ["Origin": f.origin], body: form)
    }

    func actions(_ f: Fixture) throws -> Int? { (try f.ws.status()["reviews"] as? [String: Any])?["actions"] as? Int }

    @Test func aMultiSelectActionIsOneTransactionAndOneUndo() throws {
        let f = try Fixture("review-rules-batch")
        defer { f.server.stop() }
        let all = try f.ws.kept()
        let keyword = try #require(all.keys.sorted().max { (all[$0]?.count ?? 0) < (all[$1]?.count ?? 0) })
        let k = f.query(keyword)
        let kept = try #require(all[keyword]).sorted()
        try #require(kept.count >= 3)
        // One good item and one that is no image: 400, and the good one is not rejected either.
        let mixed = try post(f, "kind=image&action=reject&keyword=\(k)&item=\(kept[0])&item=\(String(repeating: "f", count: 64))")
        #expect(mixed.status == 400)
        #expect(try f.ws.kept()[keyword]?.contains(kept[0]) == true, "nothing of a refused action is committed")
        #expect(try actions(f) == 0)

        // Three images rejected together: three rows, one action that one undo reverts whole.
        let three = Array(kept.prefix(3))
        let ok = try post(f, "kind=image&action=reject&keyword=\(k)" + three.map { "&item=\($0)" }.joined())
        #expect(ok.status == 200)
        #expect(try f.ws.kept()[keyword]?.isDisjoint(with: three) == true)
        #expect(try actions(f) == 3)
        let batches = try f.ws.open().manifest.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT batch) FROM reviews") }
        #expect(batches == 1)
        #expect(try post(f, "action=undo").status == 200)
        #expect(try f.ws.kept()[keyword]?.isSuperset(of: three) == true, "one undo brings back all three")
        #expect(try actions(f) == 0)
        #expect(try post(f, "action=undo").text.contains("nothing to undo"))
    }

    @Test func imagesAreDecidedOnlyUnderTheirOwnKeywords() throws {
        let f = try Fixture("review-rules-pairs")
        defer { f.server.stop() }
        // An image of the fixture's keyword that was never collected for another keyword.
        let (other, foreign) = try #require(try f.ws.open().manifest.read { db -> (String, String)? in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT k.text, s.image_sha256 FROM keywords k, pair_states s JOIN keywords own ON own.id = s.keyword_id
                 WHERE own.text = ? AND k.text != ? AND s.image_sha256 = ?
                   AND NOT EXISTS (SELECT 1 FROM pair_states p WHERE p.keyword_id = k.id AND p.image_sha256 = s.image_sha256)
                 ORDER BY k.text LIMIT 1
                """, arguments: [f.keyword, f.keyword, f.sha]) else { return nil }
            return (row[0], row[1])
        })
        let before = try f.ws.kept()
        for action in ["accept", "reject"] {
            let reply = try post(f, "kind=image&action=\(action)&keyword=\(f.query(other))&item=\(foreign)")
            #expect(reply.status == 400, "\(action) under a keyword the image is not of")
            #expect(reply.text.contains("not an image of keyword"))
        }
        let wrongFrom = try post(f, "kind=image&action=relabel&keyword=\(f.query(other))&to=\(f.query(f.keyword))&item=\(foreign)")
        #expect(wrongFrom.status == 400, "relabel from a keyword the image is not of")
        #expect(try f.ws.kept() == before)
        #expect(try actions(f) == 0)

        // The same image under its own keyword: relabelled to any other keyword, then decided there.
        #expect(try post(f, "kind=image&action=relabel&keyword=\(f.query(f.keyword))&to=\(f.query(other))&item=\(foreign)").status == 200)
        #expect(try f.ws.kept()[other]?.contains(foreign) == true)
        #expect(try post(f, "kind=image&action=reject&keyword=\(f.query(other))&item=\(foreign)").status == 200)
        #expect(try f.ws.kept()[other]?.contains(foreign) != true)

        // --import refuses the same by line, applies the rest, and exits 1.
        let file = f.ws.tmp.path("pairs.jsonl")
        let line = { (keyword: String, sha: String) in
            JSONText.encodeObject(["subject": "image", "action": "accept", "keyword": keyword, "image_sha256": sha,
                                   "reviewer": "importer", "reviewed_at": 1_790_000_000.0 + Double(keyword.count)])
        }
        let (stranger, own) = try #require(try f.ws.open().manifest.read { db -> (String, String)? in
            let ids = try Row.fetchOne(db, sql: "SELECT (SELECT id FROM keywords WHERE text = ?), (SELECT id FROM keywords WHERE text = ?)",
                                       arguments: [f.keyword, other])
            let mine: Int64 = ids?[0] ?? 0, theirs: Int64 = ids?[1] ?? 0
            let shas = try String.fetchAll(db, sql: """
                SELECT s.image_sha256 FROM pair_states s WHERE s.keyword_id = ?1 AND s.image_sha256 != ?3
                   AND NOT EXISTS (SELECT 1 FROM pair_states p WHERE p.keyword_id = ?2 AND p.image_sha256 = s.image_sha256)
                   AND NOT EXISTS (SELECT 1 FROM human_pairs h WHERE h.keyword_id = ?2 AND h.image_sha256 = s.image_sha256)
                 ORDER BY s.image_sha256 LIMIT 1
                """, arguments: [mine, theirs, foreign])
            return shas.first.map { ($0, $0) }
        })
        let future = JSONText.encodeObject(["subject": "image", "action": "accept", "keyword": f.keyword, "image_sha256": own,
                                            "reviewer": "importer", "reviewed_at": 1e12])
        let nobody = JSONText.encodeObject(["subject": "image", "action": "accept", "keyword": f.keyword, "image_sha256": own,
                                            "reviewer": " ", "reviewed_at": 1_790_000_001.0])
        try [line(other, stranger), line(f.keyword, own), future, nobody].map { $0 + "\n" }.joined()
            .write(to: file, atomically: true, encoding: .utf8)
        let imported = try f.ws.cli.run(["review", "--workspace", f.ws.root.path, "--import", file.path, "--json"])
        #expect(imported.status == 1)
        let json = try imported.json()
        #expect(json["applied"] as? Int == 1)
        #expect(json["failed"] as? Int == 3)
        for place in ["pairs.jsonl:1", "pairs.jsonl:3", "pairs.jsonl:4"] {
            #expect(imported.stderr.contains(place), "the refused line is named: \(imported.stderr)")
        }
        #expect(imported.stderr.split(separator: "\n").filter { $0.contains("pairs.jsonl") }.count == 3, "one line per refused item")
        #expect(imported.stderr.contains("not an image of keyword"))
        #expect(imported.stderr.contains("is not a time a review was taken"))
    }

    @Test func textsOfAnImageRejectedForTheirKeywordCannotBeBroughtBack() throws {
        let f = try Fixture("review-rules-texts")
        defer { f.server.stop() }
        let (keyword, sha, question, description) = try #require(try f.ws.open().manifest.read { db -> (String, String, String, Int64?)? in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT k.text, q.image_sha256, q.id FROM questions q JOIN keywords k ON k.id = q.keyword_id
                 WHERE q.status = 'accepted' AND q.image_sha256 != '' ORDER BY q.id LIMIT 1
                """) else { return nil }
            let d = try Int64.fetchOne(db, sql: """
                SELECT d.id FROM descriptions d JOIN keywords k ON k.id = d.keyword_id
                 WHERE k.text = ? AND d.image_sha256 = ? AND d.status = 'accepted' LIMIT 1
                """, arguments: [row[0] as String, row[1] as String])
            return (row[0], row[1], row[2], d)
        })
        let k = f.query(keyword)
        // A text action naming another keyword than the text's is refused.
        let elsewhere = try #require(try f.ws.kept().keys.sorted().first { $0 != keyword })
        let misplaced = try post(f, "kind=question&action=reject&keyword=\(f.query(elsewhere))&item=\(f.query(question))")
        #expect(misplaced.status == 400)
        #expect(misplaced.text.contains("not a question of keyword"))
        #expect(try actions(f) == 0)
        #expect(try post(f, "kind=image&action=reject&keyword=\(k)&item=\(sha)").status == 200)
        let status = { (sql: String, id: any DatabaseValueConvertible) throws -> String? in
            try f.ws.open().manifest.read { db in try String.fetchOne(db, sql: sql, arguments: [id]) }
        }
        #expect(try status("SELECT status FROM questions WHERE id = ?", question) == "rejected")
        let accept = try post(f, "kind=question&action=accept&keyword=\(k)&item=\(f.query(question))")
        #expect(accept.status == 400)
        #expect(accept.text.contains("is not kept under"))
        let edit = try post(f, "kind=question&action=edit&keyword=\(k)&item=\(f.query(question))&question=\(f.query("Which dish?"))&options=A%0AB&answer=0")
        #expect(edit.status == 400)
        #expect(try status("SELECT status FROM questions WHERE id = ?", question) == "rejected")
        #expect(try status("SELECT COUNT(*) FROM questions WHERE id LIKE ?", question + "~h%") == "0", "no edited version made")
        if let description {
            #expect(try post(f, "kind=description&action=accept&item=\(description)").status == 400)
            #expect(try post(f, "kind=description&action=edit&item=\(description)&text=Back").status == 400)
            #expect(try status("SELECT status FROM descriptions WHERE id = ?", description) == "rejected")
        }
        // Rejecting stays allowed; after an undo of the image's reject the text may be accepted again.
        #expect(try post(f, "kind=question&action=reject&keyword=\(k)&item=\(f.query(question))").status == 200)
        #expect(try post(f, "action=undo").status == 200)
        #expect(try post(f, "action=undo").status == 200)
        #expect(try post(f, "kind=question&action=accept&keyword=\(k)&item=\(f.query(question))").status == 200)
        #expect(try status("SELECT status FROM questions WHERE id = ?", question) == "accepted")
    }
}
