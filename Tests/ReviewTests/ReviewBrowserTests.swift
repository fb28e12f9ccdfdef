import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

/// The review app in Debian's headless Chromium, driven by Selenium (interop venv) with Debian's chromedriver:
/// keyboard reject, relabel with type-ahead, two images selected and accepted together, a question edited, a reload — then the manifest, `status --json`
/// and reruns of filter and shards honour every decision.
@Suite(.serialized) struct ReviewBrowserTests {
    static let chromedriver = "/usr/bin/chromedriver"

    @Test func keyboardDecisionsInTheBrowserReachTheManifestAndSurviveReruns() throws {
        guard HeadlessBrowser.executable != nil, FileManager.default.isExecutableFile(atPath: Self.chromedriver) else {
            Issue.record("chromium and chromium-driver are needed (scripts/install-system-deps.sh)")
            return
        }
        let python: URL
        switch InteropVenv.python {
        case .success(let url): python = url
        case .failure(let failure):
            if InteropVenv.mayBeMissing { return }
            Issue.record("\(failure.message)")
            return
        }
        let ws = try ReviewWorkspace.build("review-browser")
        // A keyword with four images and a question (the one with the EXIF-rotated and greyscale photos), and another keyword to relabel to.
        let (keyword, other) = try ws.open().manifest.read { db -> (String?, String?) in
            let keyword = try String.fetchOne(db, sql: """
                SELECT k.text FROM keywords k
                 WHERE (SELECT COUNT(*) FROM pair_states s WHERE s.keyword_id = k.id) >= 4
                   AND EXISTS (SELECT 1 FROM questions q WHERE q.keyword_id = k.id)
                 ORDER BY k.text LIMIT 1
                """)
            return (keyword, try String.fetchOne(db, sql: "SELECT text FROM keywords WHERE text != ? ORDER BY text DESC LIMIT 1", arguments: [keyword ?? ""]))
        }
        let kw = try #require(keyword), to = try #require(other)
        let server = try ReviewProcess(binary: CommandRunner.binary, workspace: ws.root, reviewer: "browser")
        defer { server.stop() }
        let screenshot = ws.tmp.path("review.png")
        let script = TestPaths.repositoryRoot.appendingPathComponent("Tests/ReviewTests/Browser/review_browser.py")
        let process = Process()
        process.executableURL = python
        process.arguments = [script.path, server.url.absoluteString, kw, to, screenshot.path]
        // Selenium Manager stays offline: the driver and browser are Debian's.
        process.environment = ProcessInfo.processInfo.environment.merging(["SE_OFFLINE": "true"]) { _, new in new }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "selenium script failed: \(String(decoding: stderr, as: UTF8.self).suffix(3000))")
        let line = try #require(String(decoding: stdout, as: UTF8.self).split(separator: "\n").last)
        let result = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let rejected = try #require(result["rejected"] as? String), relabelled = try #require(result["relabelled"] as? String)
        let questionID = try #require(result["question_id"] as? String)

        #expect((result["console"] as? [String]) == [], "no console errors: \(result["console"] ?? "")")
        #expect((result["suggestions"] as? [String])?.contains(to) == true, "type-ahead offered the keyword")
        let states = result["states_after_reload"] as? [String: String] ?? [:]
        #expect(states[rejected] == "human: reject", "the reload shows the reject from the manifest")
        #expect(states[relabelled] == "human: reject", "relabelled away from this keyword")
        let accepted = result["accepted"] as? [String] ?? []
        #expect(accepted.count == 2)
        for sha in accepted { #expect(states[sha] == "human: accept", "multi-selected and accepted together") }
        // The screenshot: a non-empty PNG of the window's width.
        let png = try Data(contentsOf: screenshot)
        #expect(png.count > 10_000)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]))
        let width = png.count > 24 ? png[16..<20].reduce(0) { $0 << 8 | Int($1) } : 0
        #expect(width >= 1000)

        // The manifest.
        try ws.open().manifest.read { (db: Database) throws in
            #expect(try HumanDecision.pair(sha256: rejected, keywordID: keywordID(kw, db), in: db) == "reject")
            #expect(try HumanDecision.pair(sha256: relabelled, keywordID: keywordID(kw, db), in: db) == "reject")
            #expect(try HumanDecision.pair(sha256: relabelled, keywordID: keywordID(to, db), in: db) == "accept")
            for sha in accepted { #expect(try HumanDecision.pair(sha256: sha, keywordID: keywordID(kw, db), in: db) == "accept") }
            #expect(try String.fetchOne(db, sql: "SELECT status FROM questions WHERE id = ?", arguments: [questionID]) == "rejected")
            #expect(try String.fetchOne(db, sql: "SELECT status FROM questions WHERE question = ?",
                                        arguments: ["Which dish is shown here (edited in review)?"]) == "accepted")
            #expect(try String.fetchOne(db, sql: "SELECT reviewer FROM reviews ORDER BY id LIMIT 1") == "browser")
        }
        // status --json, then filter with other thresholds and shards: every decision holds.
        try ws.run(["filter", "--workspace", ws.root.path, "--min-short-side", "1", "--aspect-ratio", "0.05,20", "--quiet"])
        try ws.run(["shards", "--workspace", ws.root.path, "--quiet"])
        let kept = try ws.kept()
        #expect(kept[kw]?.contains(rejected) != true)
        #expect(kept[kw]?.contains(relabelled) != true)
        #expect(kept[to]?.contains(relabelled) == true)
        let reviews = try #require(try ws.status()["reviews"] as? [String: Any])
        #expect(((reviews["images"] as? [String: Any])?["rejected"] as? Int) == 2)
        #expect(((reviews["images"] as? [String: Any])?["accepted"] as? Int) == 3, "two accepted here, one by the relabel")
        #expect(((reviews["images"] as? [String: Any])?["relabelled"] as? Int) == 1)
        #expect(((reviews["questions"] as? [String: Any])?["edited"] as? Int) == 1)
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: ws.root.appendingPathComponent("shards/shards.json"))) as? [String: Any]
        #expect((((index?["reviews"] as? [String: Any])?["questions"] as? [String: Any])?["edited"] as? Int) == 1)
        #expect(!(try ws.shardBytes().contains(rejected)), "the rejected image is in no shard")
    }

    private func keywordID(_ text: String, _ db: Database) throws -> Int64 {
        try #require(try Int64.fetchOne(db, sql: "SELECT id FROM keywords WHERE text = ?", arguments: [text]))
    }
}
