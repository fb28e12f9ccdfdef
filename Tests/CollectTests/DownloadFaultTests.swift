@testable import Collect
import Dataset
import Foundation
import GRDB
import HTTP
import Logging
import Synchronization
import Testing
import _DSBuildTestSupport

/// The downloader against a loopback server that injects the faults real servers produce; each recorded outcome
/// (reason, attempts, retryable) is asserted.
@Suite(.serialized) struct DownloadFaultTests {
    static let jpeg = try! Data(contentsOf: TestPaths.kViscuitImages.appendingPathComponent("10.jpg"))
    static let png: Data = {
        let name = try! FileManager.default.contentsOfDirectory(atPath: TestPaths.kViscuitImages.path).first { $0.hasSuffix(".png") }!
        return try! Data(contentsOf: TestPaths.kViscuitImages.appendingPathComponent(name))
    }()

    final class Counts: Sendable {
        private let counts = Mutex<[String: Int]>([:])
        func next(_ path: String) -> Int { counts.withLock { $0[path, default: 0] += 1; return $0[path]! } }
    }

    static func router(_ counts: Counts) -> LoopbackRouter {
        let jpeg = Self.jpeg, png = Self.png
        return LoopbackRouter()
            .on("/robots.txt") { _ in .text("User-agent: *\nDisallow: /private/\n") }
            .on("/ok.jpg") { _ in .ok(jpeg, contentType: "image/jpeg") }
            .on("/same.jpg") { _ in .ok(jpeg, contentType: "image/jpeg") }
            .on("/ok.png") { _ in .ok(png, contentType: "image/png") }
            .on("/wrong-type.jpg") { _ in .ok(jpeg, contentType: "text/plain") }
            .on("/html.jpg") { _ in .ok(Data("<!DOCTYPE html><html><body>Login</body></html>".utf8), contentType: "image/jpeg") }
            .on("/missing.jpg") { _ in .status(404) }
            .on("/429-retry-after.jpg") { _ in .status(429, headers: [("Retry-After", "0")]) }
            .on("/429.jpg") { _ in .status(429) }
            .on("/503-then-ok.jpg") { _ in counts.next("/503-then-ok.jpg") == 1 ? .status(503, headers: [("Retry-After", "0")]) : .ok(jpeg) }
            .on("/500.jpg") { _ in .status(500) }
            .on("/reset.jpg") { _ in .fault(.resetMidBody(afterBytes: 100)) }
            .on("/truncated.jpg") { _ in LoopbackResponse(status: 200, body: jpeg.prefix(1000), framing: .declaredLength(jpeg.count)) }
            .on("/slow.jpg") { _ in LoopbackResponse(status: 200, body: jpeg, pacing: (bytes: 50, interval: .milliseconds(400))) }
            .on("/big.jpg") { _ in .ok(jpeg + Data(count: 1_100_000), contentType: "image/jpeg") }
            .on("/loop") { _ in .redirect(to: "/loop") }
            .on("/passwd") { _ in .redirect(to: "file:///etc/passwd") }
            .on("/private/x.jpg") { _ in .ok(jpeg) }
            .on("/noai.jpg") { _ in LoopbackResponse(status: 200, headers: [("X-Robots-Tag", "noai")], body: jpeg) }
            .on("/agent-noai.jpg") { _ in LoopbackResponse(status: 200, headers: [("X-Robots-Tag", "dsbuild: noimageai")], body: jpeg) }
            .on("/other-agent.jpg") { _ in LoopbackResponse(status: 200, headers: [("X-Robots-Tag", "googlebot: noai")], body: jpeg) }
    }

    static var settings: DownloadSettings {
        var s = DownloadSettings()
        s.concurrency = 8
        s.perHost = 8
        s.maxAttempts = 3
        s.retryBaseSeconds = 0.01
        s.retryMaxSeconds = 0.05
        s.lowSpeedBytes = 1000
        s.lowSpeedSeconds = 1
        s.totalTimeout = 20
        s.maxBytes = 1_000_000
        s.userAgentContact = "tests@example.org"
        return s
    }

    struct Recorded {
        let status: String
        let reason: String?
        let detail: String?
        let attempts: Int
        let retryable: Bool
        let sha: String?
        let waits: [Double?]
    }

    /// Inserts one candidate per path and runs the download stage; returns the recorded outcome per path.
    static func download(_ paths: [String], server: LoopbackHTTPServer, workspace: Workspace) async throws -> [String: Recorded] {
        try insertCandidates(paths.map { server.url($0).absoluteString }, into: workspace)
        let engine = HTTPEngine(configuration: .init(userAgent: settings.userAgent, maxTotalConnections: 8, maxConnectionsPerHost: 8))
        defer { engine.shutdown() }
        let stage = DownloadStage(workspace: workspace, http: HTTPImageFetcher(engine: engine, settings: settings))
        let runner = StageRunner(manifest: workspace.manifest, progress: ProgressReporter(style: .quiet), logger: Logger(label: "test"))
        _ = try await runner.run(stage, concurrency: 8)
        return try workspace.manifest.read { db in
            var out: [String: Recorded] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT c.id, c.image_url, d.status, d.reason, d.detail, d.attempts, d.retryable, d.image_sha256
                FROM candidates c JOIN downloads d ON d.candidate_id = c.id
                """) {
                let url: String = row["image_url"]
                let waits = try Double?.fetchAll(db, sql: "SELECT wait_seconds FROM download_attempts WHERE candidate_id = ? ORDER BY attempt",
                                                 arguments: [row["id"] as Int64])
                out[URL(string: url)!.path] = Recorded(status: row["status"], reason: row["reason"], detail: row["detail"],
                                                       attempts: row["attempts"], retryable: row["retryable"], sha: row["image_sha256"],
                                                       waits: waits)
            }
            return out
        }
    }

    static func insertCandidates(_ urls: [String], into workspace: Workspace, keyword: String = "k") throws {
        try KeywordStore.insert([KeywordEntry(text: keyword)], into: workspace.manifest)
        try workspace.manifest.write { db in
            let id = try Int64.fetchOne(db, sql: "SELECT id FROM keywords WHERE text = ?", arguments: [keyword])!
            for url in urls {
                try db.execute(sql: "INSERT OR IGNORE INTO candidates(keyword_id, source, source_id, image_url, created_at) VALUES (?, 'urls', ?, ?, 0)",
                               arguments: [id, url, url])
            }
        }
    }

    @Test func eachFaultIsRecordedWithItsReason() async throws {
        let counts = Counts()
        let server = try LoopbackHTTPServer(router: Self.router(counts))
        defer { server.stop() }
        let dir = TemporaryDirectory()
        let workspace = try Workspace.create(at: dir.url)
        let paths = ["/ok.jpg", "/ok.png", "/wrong-type.jpg", "/html.jpg", "/missing.jpg", "/429-retry-after.jpg", "/429.jpg",
                     "/503-then-ok.jpg", "/500.jpg", "/reset.jpg", "/truncated.jpg", "/slow.jpg", "/big.jpg", "/loop",
                     "/passwd", "/private/x.jpg", "/noai.jpg", "/agent-noai.jpg", "/other-agent.jpg"]
        let r = try await Self.download(paths, server: server, workspace: workspace)
        #expect(r.count == paths.count)

        for ok in ["/ok.jpg", "/ok.png", "/wrong-type.jpg", "/other-agent.jpg"] {
            #expect(r[ok]?.status == "ok", "\(ok): \(String(describing: r[ok]?.detail))")
        }
        #expect(r["/ok.jpg"]?.sha == r["/wrong-type.jpg"]?.sha)
        #expect(r["/html.jpg"]?.reason == "not_an_image")
        #expect(r["/html.jpg"]?.detail?.contains("text/html") == true)
        #expect(r["/html.jpg"]?.detail?.contains("/html.jpg") == true)
        #expect(r["/missing.jpg"]?.reason == "http_404")
        #expect(r["/missing.jpg"]?.attempts == 1)
        #expect(r["/missing.jpg"]?.retryable == false)
        #expect(r["/429-retry-after.jpg"]?.reason == "http_429")
        #expect(r["/429-retry-after.jpg"]?.attempts == 3)
        #expect(r["/429-retry-after.jpg"]?.retryable == true)
        #expect(r["/429-retry-after.jpg"]?.waits == [0, 0, nil])
        #expect(r["/429.jpg"]?.reason == "http_429")
        #expect(r["/429.jpg"]?.waits.prefix(2).allSatisfy { ($0 ?? -1) >= 0 && ($0 ?? 1) <= 0.05 } == true)
        #expect(r["/503-then-ok.jpg"]?.status == "ok")
        #expect(r["/503-then-ok.jpg"]?.attempts == 2)
        #expect(r["/500.jpg"]?.reason == "http_500")
        #expect(r["/500.jpg"]?.attempts == 3)
        #expect(["connection_reset", "truncated"].contains(r["/reset.jpg"]?.reason ?? ""), "\(String(describing: r["/reset.jpg"]?.reason))")
        #expect(r["/truncated.jpg"]?.reason == "truncated")
        #expect(r["/slow.jpg"]?.reason == "too_slow")
        #expect(r["/big.jpg"]?.reason == "too_large")
        #expect(r["/big.jpg"]?.attempts == 1)
        #expect(r["/loop"]?.reason == "too_many_redirects")
        #expect(r["/passwd"]?.reason == "disallowed_scheme")
        #expect(r["/private/x.jpg"]?.reason == "robots_disallowed")
        #expect(server.requestCount("/private/x.jpg") == 0)
        #expect(server.requestCount("/robots.txt") == 1)
        #expect(r["/noai.jpg"]?.reason == "x_robots_tag")
        #expect(r["/noai.jpg"]?.detail?.contains("noai") == true)
        #expect(r["/agent-noai.jpg"]?.reason == "x_robots_tag")
        #expect(r["/noai.jpg"]?.attempts == 1 && r["/noai.jpg"]?.sha == nil)

        // Images are in the store under their sha256, and no temporary file is left.
        let images = try workspace.manifest.read { db in try Row.fetchAll(db, sql: "SELECT sha256, path, width FROM images") }
        #expect(images.count == 2)
        for image in images {
            #expect(FileManager.default.fileExists(atPath: workspace.imageURL(relativePath: image["path"]).path))
            #expect((image["width"] as Int?) ?? 0 > 0)
        }
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: workspace.temporaryDirectory.path)) ?? []
        #expect(leftovers.isEmpty)
    }

    @Test func rerunRetriesOnlyTransientFailures() async throws {
        let counts = Counts()
        let server = try LoopbackHTTPServer(router: Self.router(counts))
        defer { server.stop() }
        let dir = TemporaryDirectory()
        let workspace = try Workspace.create(at: dir.url)
        _ = try await Self.download(["/ok.jpg", "/missing.jpg", "/500.jpg"], server: server, workspace: workspace)
        let second = try await Self.download([], server: server, workspace: workspace)
        #expect(server.requestCount("/ok.jpg") == 1)
        #expect(server.requestCount("/missing.jpg") == 1)
        #expect(server.requestCount("/500.jpg") == 6)
        #expect(second["/500.jpg"]?.attempts == 6)
    }

    @Test func sameURLForTwoKeywordsIsFetchedOnce() async throws {
        let server = try LoopbackHTTPServer(router: Self.router(Counts()))
        defer { server.stop() }
        let dir = TemporaryDirectory()
        let workspace = try Workspace.create(at: dir.url)
        _ = try await Self.download(["/same.jpg"], server: server, workspace: workspace)
        try Self.insertCandidates([server.url("/same.jpg").absoluteString], into: workspace, keyword: "other")
        _ = try await Self.download([], server: server, workspace: workspace)
        #expect(server.requestCount("/same.jpg") == 1)
        let shas = try workspace.manifest.read { db in try String.fetchAll(db, sql: "SELECT image_sha256 FROM downloads WHERE status = 'ok'") }
        #expect(shas.count == 2 && Set(shas).count == 1)
    }
}
