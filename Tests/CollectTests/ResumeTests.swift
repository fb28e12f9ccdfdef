import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

/// SIGKILL `dsbuild collect` mid-run, run it again, and compare with an uninterrupted run: the same images, and
/// no image that had finished before the kill is requested again (counted at the server).
@Suite(.serialized) struct ResumeTests {
    static let imageCount = 240

    static func imageMap(_ workspace: URL) throws -> [String: String] {
        let ws = try Workspace.open(at: workspace)
        return try ws.manifest.read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.image_url, d.image_sha256 FROM candidates c JOIN downloads d ON d.candidate_id = c.id WHERE d.status = 'ok'
                """).reduce(into: [:]) { $0[URL(string: $1["image_url"])!.path] = $1["image_sha256"] as String }
        }
    }

    @Test func resumeAfterKillDownloadsOnlyMissingImages() async throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: TestPaths.kViscuitImages.path).filter { $0.hasSuffix(".jpg") }.sorted()
        let images = try files.prefix(40).map { try Data(contentsOf: TestPaths.kViscuitImages.appendingPathComponent($0)) }
        let router = LoopbackRouter().onPrefix("/img/") { request in
            let n = Int(request.path.dropFirst(5).dropLast(4)) ?? 0
            return LoopbackResponse(status: 200, headers: [("Content-Type", "image/jpeg")], body: images[n % images.count],
                                    delayBeforeHeaders: .milliseconds(80))
        }
        let server = try LoopbackHTTPServer(router: router)
        defer { server.stop() }
        let dir = TemporaryDirectory()
        let list = dir.path("list.csv")
        try (["url,caption"] + (0..<Self.imageCount).map { "\(server.url("/img/\($0).jpg").absoluteString),image \($0)" })
            .joined(separator: "\n").write(to: list, atomically: true, encoding: .utf8)
        let runner = CommandRunner()
        let arguments = { (ws: URL) in ["collect", "--workspace", ws.path, "--sources", "urls", "--source-file", list.path,
                                        "--keyword", "k", "--concurrency", "4", "--per-host", "4", "--json",
                                        "--allow-host", "127.0.0.1:\(server.port)"] }

        // Interrupted run: kill once a quarter of the images have been asked for.
        let killed = dir.path("killed")
        #expect(try runner.run(["init", killed.path]).status == 0)
        let process = try runner.start(arguments(killed))
        let deadline = Date().addingTimeInterval(60)
        // Polled with a thread sleep: it wakes on time even when other suites keep the cooperative pool busy.
        while server.totalRequests < Self.imageCount / 4 && Date() < deadline { usleep(20_000) }
        process.kill()
        let first = process.wait()
        #expect(first.signalled, "collect finished before it could be killed: \(first.stderr)")
        let finishedBeforeKill = try Self.imageMap(killed)
        #expect(finishedBeforeKill.count < Self.imageCount)
        let countsBeforeRerun = Dictionary(uniqueKeysWithValues: (0..<Self.imageCount).map { ("/img/\($0).jpg", server.requestCount("/img/\($0).jpg")) })

        let second = try runner.run(arguments(killed))
        #expect(second.status == 0, "\(second.stderr)")
        let resumed = try Self.imageMap(killed)
        #expect(resumed.count == Self.imageCount)
        for path in finishedBeforeKill.keys {
            #expect(server.requestCount(path) == countsBeforeRerun[path], "\(path) was downloaded again after it had finished")
        }
        #expect((0..<Self.imageCount).allSatisfy { server.requestCount("/img/\($0).jpg") <= 2 })

        // Uninterrupted run into another workspace: the same images.
        let clean = dir.path("clean")
        #expect(try runner.run(["init", clean.path]).status == 0)
        let third = try runner.run(arguments(clean))
        #expect(third.status == 0, "\(third.stderr)")
        #expect(try Self.imageMap(clean) == resumed)
        let summary = try third.json()
        #expect(summary["downloads"] as? Int == Self.imageCount)

        // Every stored file is whole (its size is the recorded one) and no temporary file is left behind.
        let ws = try Workspace.open(at: killed)
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: ws.temporaryDirectory.path)) ?? []
        #expect(leftovers.isEmpty, "left in images/.tmp: \(leftovers)")
        let rows = try ws.manifest.read { db in try Row.fetchAll(db, sql: "SELECT path, bytes FROM images") }
        for row in rows {
            let size = try FileManager.default.attributesOfItem(atPath: ws.imageURL(relativePath: row["path"]).path)[.size] as? Int
            #expect(size == row["bytes"])
        }
    }
}
