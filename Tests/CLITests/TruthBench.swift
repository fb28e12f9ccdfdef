import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

/// bench/truth: a planted-noise experiment on the real K-Viscuit photos, run through the commands. 10 % of the photos
/// are filed under a wrong keyword of the same category, and the writer model (`PlantingWriter`) adds a false visual
/// claim to 10 % of its descriptions and swaps the key of 10 % of its questions; the judges ask a loopback endpoint
/// that answers as a perfect verifier (it recognises each photo by its pixels, `PerfectVerifier`). Prints recall and precision of each
/// check — with a perfect verifier anything short of 100 % / 100 % is dsbuild's error — and the requests, tokens and
/// cache hits of a rerun (which must make no request). Runs only with DSBUILD_BENCH=1 (bench/truth/run.sh).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["DSBUILD_BENCH"] != nil))
struct TruthBench {
    /// The photos as filed: keyword folder → photos, and the photos filed under a wrong keyword.
    struct Planted {
        let tmp = TemporaryDirectory("dsbuild-truth-bench")
        var keywords: [(text: String, category: String)] = []
        var truth: [(image: Data, keyword: String)] = []
        /// "keyword sha256" of every pair filed under a wrong keyword.
        var mislabelled: Set<String> = []
        var photos = 0

        init(fraction: Double = 0.1, seed: UInt64 = 17) throws {
            var seen = Set<String>(), seenImage = Set<String>()
            let items = try KViscuitFixture.type1Items().filter {
                FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
                    && !$0.keyword.contains("/") && seen.insert($0.keyword).inserted && seenImage.insert($0.imagePath).inserted
            }
            keywords = items.map { ($0.keyword, $0.category) }
            var generator = SeededGenerator(seed: seed)
            let byCategory = Dictionary(grouping: items.indices, by: { items[$0].category })
            let moved = Set(items.indices.shuffled(using: &generator).filter { byCategory[items[$0].category]!.count > 1 }
                .prefix(Int((Double(items.count) * fraction).rounded())))
            let folder = try PhotoFolder(root: tmp.path("photos"))
            for (i, item) in items.enumerated() {
                let data = try Data(contentsOf: TestPaths.kViscuitImages.appendingPathComponent(item.imagePath))
                truth.append((data, item.keyword))
                var under = item.keyword
                if moved.contains(i) {
                    let others = byCategory[item.category]!.filter { $0 != i }
                    under = items[others[Int(generator.next() % UInt64(others.count))]].keyword
                    mislabelled.insert("\(under) \(ContentHash.sha256Hex(data))")
                }
                try folder.add(item, keyword: under)
                photos += 1
            }
            try ("keyword,category\r\n" + keywords.map { "\"\($0.text)\",\($0.category.lowercased())\r\n" }.joined())
                .write(to: tmp.path("keywords.csv"), atomically: true, encoding: .utf8)
            try """
                name: truth-bench
                keywords: keywords.csv
                contact: https://example.org/dsbuild-bench
                llm:
                  model: fake-model
                  concurrency: 8
                  image_max_side: 256
                collect:
                  per_keyword: 10
                  sources:
                    directory:
                      path: \(tmp.path("photos").path)
                filter:
                  min_short_side: 64
                  aspect_ratio: [0.2, 5.0]
                  relevance:
                    enabled: true
                describe:
                  aspects: [visual]
                  modes: [image-grounded, text-only]
                  languages: [en]
                  max_attempts: 2
                  verify: true
                mcq:
                  types: [1, 2]
                  per_keyword: 1
                  seed: 7
                  verify: true

                """.write(to: tmp.path("recipe.yaml"), atomically: true, encoding: .utf8)
        }
    }

    /// Recall and precision of one check: what it flagged against what was planted.
    struct Score: CustomStringConvertible {
        let name: String
        let planted: Set<String>
        let flagged: Set<String>
        var found: Int { planted.intersection(flagged).count }
        var recall: Double { planted.isEmpty ? 1 : Double(found) / Double(planted.count) }
        var precision: Double { flagged.isEmpty ? 1 : Double(found) / Double(flagged.count) }
        var description: String {
            String(format: "%@: planted %d, flagged %d, found %d — recall %.1f %%, precision %.1f %%",
                   name, planted.count, flagged.count, found, recall * 100, precision * 100)
        }
    }

    static func write(_ lines: [String]) {
        let text = lines.joined(separator: "\n") + "\n"
        print(text)
        if let out = ProcessInfo.processInfo.environment["DSBUILD_BENCH_OUT"] {
            try? text.write(toFile: out, atomically: true, encoding: .utf8)
        }
    }

    @Test func plantedNoiseIsFoundByTheJudges() throws {
        let p = try Planted()
        let verifier = try PerfectVerifier(truth: p.truth)
        let writer = PlantingWriter(fraction: 0.1)
        let chat = FakeChatEndpoint(responder: { body in verifier.answer(body) ?? writer.respond(body) })
        let server = try chat.serve()
        defer { server.stop() }
        let cli = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-truth-bench-0123456789"])
        let w = p.tmp.path("ws").path
        func run(_ arguments: [String]) throws {
            let result = try cli.run(arguments + ["--workspace", w, "--quiet"])
            #expect(result.status == 0, "dsbuild \(arguments.joined(separator: " ")): \(result.stderr.suffix(2000))")
        }
        let started = Date()
        #expect(try cli.run(["init", w, "--recipe", p.tmp.path("recipe.yaml").path, "--quiet"]).status == 0)
        try run(["collect"])
        try run(["filter"])
        try run(["describe"])
        try run(["mcq"])
        let firstPass = chat.requestCount
        let seconds = Date().timeIntervalSince(started)
        let dropped = Set(try Hardening.rows(p.tmp.path("ws"), """
            SELECT k.text || ' ' || d.image_sha256 FROM filter_decisions d JOIN keywords k ON k.id = d.keyword_id
             WHERE d.rule = 'relevance' AND d.pass = 0
            """).map { $0[0] })
        // A planted pair another rule drops is never shown to the judge (nor kept): it is counted apart.
        let droppedElsewhere = Set(try Hardening.rows(p.tmp.path("ws"), """
            SELECT DISTINCT k.text || ' ' || d.image_sha256 FROM filter_decisions d JOIN keywords k ON k.id = d.keyword_id
             WHERE d.rule != 'relevance' AND d.pass = 0
            """).map { $0[0] })
        let relevance = Score(name: "relevance (image under a wrong keyword)", planted: p.mislabelled.subtracting(droppedElsewhere), flagged: dropped)

        // Descriptions: flagged = answers sent back with the verifier's claims, or rejected as unfaithful.
        let ws = p.tmp.path("ws")
        let bodies = chat.bodies
        let sentToVerifier = Set(bodies.filter { PerfectVerifier.schemaName($0) == "faithfulness_judgement" }.compactMap { body -> String? in
            let text = FakeChatEndpoint.firstUserText(body)
            guard let open = text.range(of: "<description>\n", options: .backwards),
                  let close = text.range(of: "\n</description>", options: .backwards), open.upperBound <= close.lowerBound else { return nil }
            return String(text[open.upperBound..<close.lowerBound])
        })
        let reasked = Set(bodies.filter { PerfectVerifier.schemaName($0) == nil }.flatMap { body -> [String] in
            (body["messages"] as? [[String: Any]] ?? []).filter { $0["role"] as? String == "assistant" }.compactMap { $0["content"] as? String }
        })
        let rejected = Set(try Hardening.rows(ws, "SELECT text FROM descriptions WHERE status = 'rejected' AND reason = 'unfaithful' AND text IS NOT NULL").map { $0[0] })
        let accepted = Set(try Hardening.rows(ws, "SELECT text FROM descriptions WHERE status = 'accepted'").map { $0[0] })
        let plantedDescriptions = writer.plantedDescriptions
        // A text-only description of a keyword left with no image-grounded description has nothing to be checked
        // against (accepted as `unverified`, by design): counted apart, like one the length validator refused first.
        let unverifiable = Set(try Hardening.rows(ws, """
            SELECT d.text FROM descriptions d WHERE d.status = 'accepted' AND d.mode = 'text-only' AND NOT EXISTS (
                SELECT 1 FROM descriptions g WHERE g.keyword_id = d.keyword_id AND g.mode = 'image-grounded' AND g.status = 'accepted')
            """).map { $0[0] })
        let reached = plantedDescriptions.filter { (sentToVerifier.contains($0) || accepted.contains($0)) && !unverifiable.contains($0) }
        let faithfulness = Score(name: "faithfulness (false visual claim in a description)", planted: reached,
                                 flagged: reasked.union(rejected))
        let plantedAccepted = plantedDescriptions.intersection(accepted).count
        if ProcessInfo.processInfo.environment["DSBUILD_BENCH_VERBOSE"] != nil {
            for text in plantedDescriptions.intersection(accepted) {
                let escaped = text.replacingOccurrences(of: "'", with: "''")
                print("planted, accepted: " + (try Hardening.rows(ws, """
                    SELECT d.mode || ' ' || k.text || ' ' || COALESCE(j.verdict, 'no judgement') || ' ' || COALESCE(j.reason, '')
                      FROM descriptions d JOIN keywords k ON k.id = d.keyword_id
                      LEFT JOIN judgements j ON j.subject = CAST(d.id AS TEXT)
                     WHERE d.text = '\(escaped)'
                    """).map { $0[0] }.joined(separator: " | ")))
            }
        }

        // Answer keys: flagged = disputed questions, by stem.
        let stored = Set(try Hardening.rows(ws, "SELECT question FROM questions WHERE status IN ('accepted', 'disputed')").map { $0[0] })
        let disputedRows = try Hardening.rows(ws, "SELECT question, type, COALESCE(reason, '') FROM questions WHERE status = 'disputed'")
        let plantedStems = writer.plantedStems
        let answerKeys = Score(name: "answer keys (a key swapped with a distractor)", planted: plantedStems.intersection(stored),
                               flagged: Set(disputedRows.map { $0[0] }))
        let otherDisputes = disputedRows.filter { !plantedStems.contains($0[0]) }.map { "type \($0[1]) \($0[2]): \($0[0].prefix(80))" }

        // A rerun of every judged stage asks nothing.
        let hitsBefore = try Hardening.rows(p.tmp.path("ws"), "SELECT COALESCE(SUM(hits), 0) FROM llm_cache")[0][0]
        try run(["filter"])
        try run(["describe"])
        try run(["mcq"])
        let rerunRequests = chat.requestCount - firstPass
        let tokens = try Hardening.rows(p.tmp.path("ws"), "SELECT COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0), COALESCE(SUM(hits), 0) FROM llm_cache")[0]
        if ProcessInfo.processInfo.environment["DSBUILD_BENCH_VERBOSE"] != nil {
            for pair in relevance.planted.subtracting(relevance.flagged).sorted() {
                print("missed: \(pair): " + (try Hardening.rows(p.tmp.path("ws"), "SELECT rule || ' ' || pass || ' ' || COALESCE(reason, '') FROM filter_decisions WHERE image_sha256 = '\(pair.suffix(64))'").map { $0[0] }.joined(separator: " | ")))
            }
            for body in chat.bodies where PerfectVerifier.schemaName(body) == "relevance_judgement" {
                if let image = PerfectVerifier.images(in: body).first, verifier.keywords(of: image).count > 1 {
                    print("one photo, several keywords: \(verifier.keywords(of: image).sorted())")
                }
            }
            for pair in relevance.flagged.subtracting(relevance.planted).sorted() {
                print("false alarm: \(pair): " + (try Hardening.rows(p.tmp.path("ws"), "SELECT reason FROM filter_decisions WHERE rule = 'relevance' AND image_sha256 = '\(pair.suffix(64))'").map { $0[0] }.joined(separator: " | ")))
            }
        }
        Self.write([
            "bench/truth — \(p.photos) K-Viscuit photos under \(p.keywords.count) keywords, \(p.mislabelled.count) filed under a wrong keyword of their category"
                + " (\(p.mislabelled.intersection(droppedElsewhere).count) of them dropped by another rule before any judge)",
            relevance.description,
            faithfulness.description + " (planted and never checked: \(plantedDescriptions.intersection(unverifiable).count) text-only ones of keywords"
                + " left without an image-grounded description, \(plantedDescriptions.filter { !sentToVerifier.contains($0) && !accepted.contains($0) }.count)"
                + " refused by the length validator first; planted, checkable and still accepted: \(plantedAccepted - plantedDescriptions.intersection(unverifiable).count))",
            answerKeys.description + " (\(plantedStems.count - plantedStems.intersection(stored).count) planted ones rejected by other checks first)",
        ] + otherDisputes.map { "  disputed, not planted: \($0)" } + [
            "first pass: \(firstPass) requests in \(String(format: "%.1f", seconds)) s; prompt tokens \(tokens[0]), completion tokens \(tokens[1])",
            "rerun: \(rerunRequests) new requests, cache hits \(hitsBefore) → \(tokens[2])",
        ])
        #expect(rerunRequests == 0)
    }
}
