import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

/// A server that sends more body than its `Content-Length` leaves the extra bytes on a kept-alive connection; the
/// next reply read there has no status line (curl: "Received HTTP/0.9 when not allowed"). That used to be
/// recorded against the *next* image as a permanent `disallowed_scheme`, never fetched again. It is the server's
/// fault and a new connection fixes it: the next image is retried and stored.
@Suite struct LyingServerTests {
    @Test func extraBytesOnAReusedConnectionDoNotFailTheNextImage() throws {
        let tmp = TemporaryDirectory()
        let files = try Hardening.images(count: 3, maxBytes: 300_000)
        var bodies: [String: Data] = [:]
        for file in files { bodies["/img/\(file.lastPathComponent)"] = try Data(contentsOf: file) }
        let served = bodies
        let liar = try Data(contentsOf: files[0])
        let server = try LoopbackHTTPServer { request in
            if request.path == "/liar.jpg" {
                // Announces 1000 bytes, sends the whole image, keeps the connection open.
                return LoopbackResponse(status: 200, headers: [("Content-Type", "image/jpeg")], body: liar, framing: .declaredLength(1000))
            }
            guard let body = served[request.path] else { return .status(404) }
            return .ok(body, contentType: "image/jpeg")
        }
        defer { server.stop() }
        var csv = "url,keyword\n\(server.url("/liar.jpg").absoluteString),kimchi\n"
        for file in files.dropFirst() { csv += "\(server.url("/img/\(file.lastPathComponent)").absoluteString),kimchi\n" }
        try csv.write(to: tmp.path("urls.csv"), atomically: true, encoding: .utf8)
        let cli = CommandRunner()
        let w = tmp.path("w")
        #expect(try cli.run(["init", w.path]).status == 0)
        let collected = try cli.run(["collect", "--workspace", w.path, "--sources", "urls", "--source-file", tmp.path("urls.csv").path,
                                     "--keyword-column", "keyword", "--concurrency", "1", "--per-host", "1", "--quiet",
                                     "--allow-host", "127.0.0.1:\(server.port)"])
        let rows = try Hardening.rows(w, "SELECT c.image_url, d.status, COALESCE(d.reason, '') FROM downloads d JOIN candidates c ON c.id = d.candidate_id ORDER BY c.id")
        for row in rows where !row[0].hasSuffix("/liar.jpg") {
            #expect(row[1] == "ok", "\(row) — \(collected.stderr)")
        }
        #expect(!rows.contains { $0[2] == "disallowed_scheme" }, "\(rows)")
    }
}
