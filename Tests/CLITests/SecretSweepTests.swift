import Dataset
import Foundation
import GRDB
import Synchronization
import Testing
import _DSBuildTestSupport

/// Issue 15, case 5: every failure path that used to print or store a key is provoked through the commands —
/// a Flickr key rejected with a body that echoes it (raw and percent-encoded), an endpoint that echoes the key in
/// a 500 and a 401, an `OPENAI_BASE_URL` with userinfo pointing at a closed port, keys with `+`, `=`, `/`, a space
/// and a Windows `\r` — and then stdout, stderr and every file of the workspace (manifest with its WAL, report,
/// shards) are swept for every form of every canary. Found: 0 bytes.
@Suite(.serialized) struct SecretSweepTests {
    static let openAIKey = "sk-CANARY+oa=/9 x\r"
    static let flickrKey = "FLKCANARY+fl=7 q\r"
    static let basePassword = "pw-CANARY-31337"
    static let baseUser = "user-CANARY"

    /// Every form a canary could take on the way out (see `CanarySweep.forms`).
    static func forms(_ secret: String) -> Set<String> { CanarySweep.forms(secret) }

    static var canaries: [String] {
        Array(forms(openAIKey).union(forms(flickrKey)).union(forms(basePassword)).union(forms(baseUser)))
    }

    /// Bytes of every canary form found in `text`.
    static func found(in data: Data) -> [String] {
        canaries.filter { data.range(of: Data($0.utf8)) != nil }
    }

    @Test func noFormOfAnyKeyReachesOutputLogsManifestOrReport() throws {
        let tmp = TemporaryDirectory("secret-sweep")
        let flickrKey = Self.flickrKey.trimmingCharacters(in: .whitespacesAndNewlines)
        let openAIKey = Self.openAIKey.trimmingCharacters(in: .whitespacesAndNewlines)

        // Flickr: rejects the key, echoing it as received and the raw query (percent-encoded) in its message;
        // for the second keyword an HTTP 403 whose body echoes the same.
        let flickrHits = Mutex<[String]>([])
        let flickr = try LoopbackHTTPServer(router: LoopbackRouter()
            .on("/services/rest/") { request in
                let items = URLComponents(string: "http://x/?" + (request.query ?? ""))?.queryItems ?? []
                let key = items.first { $0.name == "api_key" }?.value ?? ""
                flickrHits.withLock { $0.append(key) }
                let echo = "Invalid API Key (Key not found): \(key) in ?\(request.query ?? "")"
                if items.first(where: { $0.name == "text" })?.value == "Hanbok" {
                    return .status(403, body: "<html><body>Forbidden: \(echo)</body></html>")
                }
                let body = try! JSONSerialization.data(withJSONObject: ["stat": "fail", "code": 100, "message": echo])
                return .ok(body, contentType: "application/json")
            })
        defer { flickr.stop() }

        // The chat endpoint: 500 echoing the key, then (second describe) 401 echoing it.
        let mode = Mutex(500)
        let endpoint = FakeChatEndpoint { _ in
            let status = mode.withLock { $0 }
            return .error(status: status, message: "Incorrect API key provided: \(openAIKey). Authorization: Bearer \(openAIKey)",
                          code: status == 401 ? "invalid_api_key" : nil)
        }
        let chat = try endpoint.serve()
        defer { chat.stop() }
        let closedPort = try LoopbackPort.free()

        try "keyword\nGat\nHanbok\n".write(to: tmp.path("k.csv"), atomically: true, encoding: .utf8)
        try """
            collect:
              per_keyword: 3
              allow_hosts: ["127.0.0.1:\(flickr.port)"]
              sources:
                flickr:
                  base_url: \(flickr.url("").absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/")))
            llm:
              model: fake-model
              max_attempts: 2
            """.write(to: tmp.path("recipe.yaml"), atomically: true, encoding: .utf8)
        let ws = tmp.path("ws")
        let environment = ["FLICKR_API_KEY": Self.flickrKey, "OPENAI_API_KEY": Self.openAIKey,
                           "OPENAI_BASE_URL": chat.url("/v1").absoluteString]
        let cli = CommandRunner(environment: environment)
        var outputs: [(String, CommandRunner.Result)] = []
        func run(_ name: String, _ arguments: [String], with runner: CommandRunner = cli) throws -> CommandRunner.Result {
            let result = try runner.run(arguments)
            outputs.append((name, result))
            return result
        }

        #expect(try run("init", ["init", ws.path, "--keywords", tmp.path("k.csv").path, "--recipe", tmp.path("recipe.yaml").path]).status == 0)
        let collect = try run("collect", ["collect", "--workspace", ws.path, "--verbose"])
        #expect(collect.status != 0, "the rejected key fails the searches")
        #expect(collect.stderr.contains("Flickr error 100: Invalid API Key"), "\(collect.stderr)")
        #expect(collect.stderr.contains("HTTP 403"), "\(collect.stderr)")
        #expect(flickrHits.withLock { $0 }.allSatisfy { $0 == flickrKey }, "the trimmed key was sent")
        #expect(!flickrHits.withLock { $0 }.isEmpty)

        let failing = try run("describe-500", ["describe", "--workspace", ws.path, "--concurrency", "1", "--verbose"])
        #expect(failing.status == 1, "\(failing.stderr)")
        #expect(failing.stderr.contains("HTTP 500"), "\(failing.stderr)")
        #expect(endpoint.authorizationHeaders.allSatisfy { $0 == "Bearer \(openAIKey)" }, "the trimmed key was sent")
        mode.withLock { $0 = 401 }
        let refused = try run("describe-401", ["describe", "--workspace", ws.path, "--concurrency", "1", "--json"])
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr.contains("authentication"), "\(refused.stderr)")

        // Credentials in OPENAI_BASE_URL, pointing at a port nobody listens on.
        let userinfo = CommandRunner(environment: environment.merging(
            ["OPENAI_BASE_URL": "http://\(Self.baseUser):\(Self.basePassword)@127.0.0.1:\(closedPort)/v1"]) { $1 })
        let unreachable = try run("describe-userinfo", ["describe", "--workspace", ws.path, "--concurrency", "1", "--refresh", "--verbose"],
                                  with: userinfo)
        #expect(unreachable.status == 1, "\(unreachable.stderr)")
        #expect(unreachable.stderr.contains("127.0.0.1"), "\(unreachable.stderr)")

        #expect(try run("status", ["status", "--workspace", ws.path, "--json"]).status == 0)
        let report = try run("report", ["report", "--workspace", ws.path])
        #expect(report.status == 0, "\(report.stderr)")

        // Last, a describe killed with SIGKILL mid-run, so the manifest's WAL stays on disk for the sweep.
        mode.withLock { $0 = 500 }
        let before = endpoint.requestCount
        let killed = try cli.start(["describe", "--workspace", ws.path, "--concurrency", "1", "--verbose"])
        let deadline = Date().addingTimeInterval(30)
        while endpoint.requestCount < before + 3 && Date() < deadline { usleep(20_000) }
        killed.kill()
        let killedResult = killed.wait()
        outputs.append(("describe-killed", killedResult))
        #expect(killedResult.signalled)
        #expect(FileManager.default.fileExists(atPath: ws.appendingPathComponent("\(Workspace.manifestFileName)-wal").path),
                "the WAL is swept too")

        // No form of any canary is anywhere (files first: opening the manifest would fold the WAL back) …
        var leaks: [String] = []
        for (name, result) in outputs {
            for form in Self.found(in: Data(result.stdout.utf8)) { leaks.append("\(name) stdout: \(form.debugDescription)") }
            for form in Self.found(in: Data(result.stderr.utf8)) { leaks.append("\(name) stderr: \(form.debugDescription)") }
        }
        var swept = 0
        let enumerator = FileManager.default.enumerator(at: ws, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                  let data = try? Data(contentsOf: url) else { continue }
            swept += 1
            for form in Self.found(in: data) { leaks.append("\(url.path): \(form.debugDescription)") }
        }
        // … and the failures were recorded (so there was something to leak).
        let details = try Workspace.open(at: ws).manifest.read { db in
            try String.fetchAll(db, sql: "SELECT detail FROM source_searches WHERE detail IS NOT NULL UNION ALL SELECT detail FROM descriptions WHERE detail IS NOT NULL")
        }
        #expect(details.count >= 4, "\(details)")
        #expect(details.contains { $0.contains(SecretRedactor.mask) }, "the echoed keys were masked, not dropped: \(details)")

        #expect(swept >= 4, "the manifest, its WAL, the recipe and the report were swept")
        #expect(FileManager.default.fileExists(atPath: ws.appendingPathComponent("report/index.html").path))
        print("secret sweep: \(outputs.count) commands, \(swept) files, \(Self.canaries.count) canary forms, \(leaks.count) found")
        #expect(leaks.isEmpty, "\(leaks)")
    }
}
