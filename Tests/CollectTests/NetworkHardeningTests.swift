import Dataset
import Foundation
import GRDB
import Synchronization
import Testing
import _DSBuildTestSupport

/// Issue 15 through `dsbuild collect` against loopback servers: redirects to private addresses (case 6), a long
/// Retry-After (case 7), an oversized body and an unreadable robots.txt (case 11).
@Suite(.serialized) struct NetworkHardeningTests {
    static let jpeg = try! Data(contentsOf: TestPaths.kViscuitImages.appendingPathComponent("10.jpg"))

    struct Row: Equatable {
        var status: String
        var reason: String?
        var retryable: Bool
        var detail: String?
    }

    /// The download outcome per URL path.
    static func downloads(_ ws: URL) throws -> [String: Row] {
        try Workspace.open(at: ws).manifest.read { db in
            var out: [String: Row] = [:]
            for row in try GRDB.Row.fetchAll(db, sql: """
                SELECT c.image_url, d.status, d.reason, d.retryable, d.detail FROM candidates c
                JOIN downloads d ON d.candidate_id = c.id
                """) {
                out[URL(string: row["image_url"] as String)!.path] = Row(status: row["status"], reason: row["reason"],
                                                                          retryable: row["retryable"], detail: row["detail"])
            }
            return out
        }
    }

    /// A URL list of `paths` on `server`, a fresh workspace, and the collect arguments for them.
    static func setUp(_ tmp: TemporaryDirectory, _ name: String, server: LoopbackHTTPServer, paths: [String],
                      recipe: String? = nil, allow: Bool = true) throws -> (ws: URL, arguments: [String]) {
        let list = tmp.path("\(name).csv")
        try (["url,caption"] + paths.map { "\(server.url($0).absoluteString),\($0)" }).joined(separator: "\n")
            .write(to: list, atomically: true, encoding: .utf8)
        let ws = tmp.path(name)
        var initArguments = ["init", ws.path, "--quiet"]
        if let recipe {
            try recipe.write(to: tmp.path("\(name).yaml"), atomically: true, encoding: .utf8)
            initArguments += ["--recipe", tmp.path("\(name).yaml").path]
        }
        let created = try CommandRunner().run(initArguments)
        #expect(created.status == 0, "\(created.stderr)")
        var arguments = ["collect", "--workspace", ws.path, "--sources", "urls", "--source-file", list.path, "--keyword", "k",
                         "--max-attempts", "3"]
        if allow { arguments += ["--allow-host", "127.0.0.1:\(server.port)"] }
        return (ws, arguments)
    }

    // MARK: Case 6

    @Test func redirectsToAnotherLoopbackPortOrAddressAreRefusedAsPrivateAddress() throws {
        let other = try LoopbackHTTPServer { _ in .ok(Self.jpeg, contentType: "image/jpeg") }
        defer { other.stop() }
        let jpeg = Self.jpeg
        let router = LoopbackRouter()
            .on("/robots.txt") { _ in .status(404) }
            .on("/ok.jpg") { _ in .ok(jpeg, contentType: "image/jpeg") }
            .on("/to-other-port.jpg") { _ in .redirect(to: "http://127.0.0.1:\(other.port)/internal.jpg") }
            .on("/to-127-0-0-2.jpg") { request in
                .redirect(to: "http://127.0.0.2:\(request.header("Host")?.split(separator: ":").last ?? "80")/ok.jpg")
            }
        let server = try LoopbackHTTPServer(router: router)
        defer { server.stop() }
        let tmp = TemporaryDirectory("ssrf")
        let paths = ["/ok.jpg", "/to-other-port.jpg", "/to-127-0-0-2.jpg"]

        let (ws, arguments) = try Self.setUp(tmp, "allowed", server: server, paths: paths)
        let run = try CommandRunner().run(arguments + ["--json"])
        #expect(run.status == 1, "the refused downloads are failures: \(run.stderr)")
        let rows = try Self.downloads(ws)
        #expect(rows["/ok.jpg"]?.status == "ok", "the allowed host:port works")
        for path in ["/to-other-port.jpg", "/to-127-0-0-2.jpg"] {
            #expect(rows[path]?.reason == "private_address", "\(path): \(String(describing: rows[path]))")
            #expect(rows[path]?.retryable == false)
        }
        #expect(rows["/to-other-port.jpg"]?.detail?.contains("127.0.0.1:\(other.port) is a loopback address") == true)
        #expect(rows["/to-127-0-0-2.jpg"]?.detail?.contains("127.0.0.2:\(server.port) is a loopback address") == true)
        #expect(other.totalRequests == 0, "the private service never saw a request")
        #expect(server.requestCount("/to-other-port.jpg") == 1, "a permanent refusal is not retried")
        let images = try Workspace.open(at: ws).manifest.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM images") }
        #expect(images == 1)

        // The production default is strict: without allow_hosts not even the loopback source is reached.
        let (strict, strictArguments) = try Self.setUp(tmp, "strict", server: server, paths: ["/ok.jpg"], allow: false)
        let before = server.totalRequests
        let refused = try CommandRunner().run(strictArguments + ["--json"])
        #expect(refused.status == 1)
        #expect(try Self.downloads(strict)["/ok.jpg"]?.reason == "private_address")
        #expect(server.totalRequests == before, "nothing was sent to the loopback server")
    }

    // MARK: Case 7

    @Test func aRetryAfterBeyondMaxWaitStopsCollectAndTheImageIsFetchedOnTheNextRun() throws {
        let jpeg = Self.jpeg
        let mode = Mutex("busy")
        let router = LoopbackRouter()
            .on("/robots.txt") { _ in .status(404) }
            .on("/busy.jpg") { _ in
                mode.withLock { $0 } == "busy" ? .status(429, headers: [("Retry-After", "3600")]) : .ok(jpeg, contentType: "image/jpeg")
            }
        let server = try LoopbackHTTPServer(router: router)
        defer { server.stop() }
        let tmp = TemporaryDirectory("retry-after")
        let (ws, arguments) = try Self.setUp(tmp, "ws", server: server, paths: ["/busy.jpg"])
        let started = Date()
        let stopped = try CommandRunner().run(arguments)
        #expect(Date().timeIntervalSince(started) < 60, "no hour-long stall")
        #expect(stopped.status != 0)
        #expect(stopped.stderr.contains("http://127.0.0.1:\(server.port) asked to wait 1h00m (Retry-After: 3600)"), "\(stopped.stderr)")
        #expect(stopped.stderr.contains("collect.max_wait_seconds"))
        #expect(server.requestCount("/busy.jpg") == 1)
        #expect(try Self.downloads(ws)["/busy.jpg"] == nil, "nothing is decided about the image")

        mode.withLock { $0 = "ok" }
        let again = try CommandRunner().run(arguments)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Self.downloads(ws)["/busy.jpg"]?.status == "ok")
    }

    @Test func aSourceAPIAskingForALongWaitStopsTheSearchWithNothingRecorded() throws {
        let router = LoopbackRouter().on("/v1/taxa") { _ in .status(429, headers: [("Retry-After", "7200")]) }
        let server = try LoopbackHTTPServer(router: router)
        defer { server.stop() }
        let tmp = TemporaryDirectory("api-wait")
        try "keyword\nGat\n".write(to: tmp.path("k.csv"), atomically: true, encoding: .utf8)
        try """
            collect:
              allow_hosts: ["127.0.0.1:\(server.port)"]
              sources:
                inaturalist:
                  base_url: \(server.url("").absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/")))
            """.write(to: tmp.path("r.yaml"), atomically: true, encoding: .utf8)
        let ws = tmp.path("ws")
        #expect(try CommandRunner().run(["init", ws.path, "--keywords", tmp.path("k.csv").path, "--recipe", tmp.path("r.yaml").path]).status == 0)
        let result = try CommandRunner().run(["collect", "--workspace", ws.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("http://127.0.0.1:\(server.port) asked to wait 2h00m (Retry-After: 7200)"), "\(result.stderr)")
        #expect(server.requestCount("/v1/taxa") == 1)
        let searches = try Workspace.open(at: ws).manifest.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM source_searches") }
        #expect(searches == 0, "the search stays pending for the next run")
    }

    @Test func aWaitOverTenSecondsIsShownOnTheProgressLineWithoutVerbose() throws {
        let jpeg = Self.jpeg
        let hits = Mutex(0)
        let router = LoopbackRouter()
            .on("/robots.txt") { _ in .status(404) }
            .on("/slow-down.jpg") { _ in
                hits.withLock { $0 += 1; return $0 } == 1 ? .status(503, headers: [("Retry-After", "11")]) : .ok(jpeg, contentType: "image/jpeg")
            }
        let server = try LoopbackHTTPServer(router: router)
        defer { server.stop() }
        let tmp = TemporaryDirectory("wait-shown")
        let (ws, arguments) = try Self.setUp(tmp, "ws", server: server, paths: ["/slow-down.jpg"])
        let run = try CommandRunner().run(arguments)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("waiting 11s for http://127.0.0.1:\(server.port) (Retry-After: 11)"), "\(run.stderr)")
        #expect(try Self.downloads(ws)["/slow-down.jpg"]?.status == "ok")
    }

    // MARK: Case 11

    @Test func aBodyOverTheSizeLimitIsFetchedOnceAndRecordedTooLarge() throws {
        let big = Self.jpeg + Data(count: 700_000)
        let router = LoopbackRouter()
            .on("/robots.txt") { _ in .status(404) }
            .on("/big.jpg") { _ in .ok(big, contentType: "image/jpeg") }
            .on("/big-chunked.jpg") { _ in LoopbackResponse(status: 200, headers: [("Content-Type", "image/jpeg")], body: big,
                                                            framing: .chunked(chunkSize: 16_384)) }
        let server = try LoopbackHTTPServer(router: router)
        defer { server.stop() }
        let tmp = TemporaryDirectory("too-large")
        let (ws, arguments) = try Self.setUp(tmp, "ws", server: server, paths: ["/big.jpg", "/big-chunked.jpg"], recipe: """
            collect:
              max_bytes: 500000
            """)
        let run = try CommandRunner().run(arguments + ["--json"])
        #expect(run.status == 1)
        let rows = try Self.downloads(ws)
        for path in ["/big.jpg", "/big-chunked.jpg"] {
            #expect(rows[path]?.reason == "too_large", "\(path): \(String(describing: rows[path]))")
            #expect(rows[path]?.retryable == false)
            #expect(server.requestCount(path) == 1, "\(path) was fetched \(server.requestCount(path)) times")
        }
        let rerun = try CommandRunner().run(arguments + ["--json"])
        #expect(rerun.status == 0)
        #expect(server.requestCount("/big.jpg") == 1, "a permanent failure is not fetched again on the next run")
    }

    @Test func aRobotsTxtThatAnswers5xxIsATemporaryDisallowRetriedOnTheNextRun() throws {
        let jpeg = Self.jpeg
        let robots = Mutex(503)
        let router = LoopbackRouter()
            .on("/robots.txt") { _ in robots.withLock { $0 } == 200 ? .text("User-agent: *\nDisallow: /private/\n") : .status(robots.withLock { $0 }) }
            .onPrefix("/img/") { _ in .ok(jpeg, contentType: "image/jpeg") }
            .onPrefix("/private/") { _ in .ok(jpeg, contentType: "image/jpeg") }
        let server = try LoopbackHTTPServer(router: router)
        defer { server.stop() }
        let tmp = TemporaryDirectory("robots-5xx")
        let paths = ["/img/1.jpg", "/img/2.jpg", "/img/3.jpg", "/private/4.jpg"]
        let (ws, arguments) = try Self.setUp(tmp, "ws", server: server, paths: paths)

        let first = try CommandRunner().run(arguments + ["--json"])
        #expect(first.status == 1, "the held-back images are failures of this run")
        let held = try Self.downloads(ws)
        for path in paths {
            #expect(held[path]?.reason == "robots_unavailable", "\(path): \(String(describing: held[path]))")
            #expect(held[path]?.retryable == true, "a 5xx robots.txt is not a decision about the image")
        }
        #expect(held["/img/1.jpg"]?.detail?.contains("HTTP 503") == true)
        #expect(paths.allSatisfy { server.requestCount($0) == 0 }, "nothing was fetched while robots.txt was unreadable")
        #expect(server.requestCount("/robots.txt") == 2, "one fetch (two attempts) shared by the run's four downloads")

        // Next run: robots.txt answers; the allowed images are fetched, the disallowed one is now a decision.
        robots.withLock { $0 = 200 }
        let second = try CommandRunner().run(arguments + ["--json"])
        #expect(second.status == 1)
        let decided = try Self.downloads(ws)
        #expect(["/img/1.jpg", "/img/2.jpg", "/img/3.jpg"].allSatisfy { decided[$0]?.status == "ok" })
        #expect(decided["/private/4.jpg"]?.reason == "robots_disallowed")
        #expect(decided["/private/4.jpg"]?.retryable == false)

        // A 4xx robots.txt allows everything (RFC 9309).
        robots.withLock { $0 = 404 }
        let (ws404, arguments404) = try Self.setUp(tmp, "ws404", server: server, paths: ["/private/5.jpg"])
        let third = try CommandRunner().run(arguments404 + ["--json"])
        #expect(third.status == 0, "\(third.stderr)")
        #expect(try Self.downloads(ws404)["/private/5.jpg"]?.status == "ok")
    }
}
