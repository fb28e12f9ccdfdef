import Dataset
import Foundation
import GRDB
import Imaging
import Testing
import _DSBuildTestSupport

/// `dsbuild review`'s server, started through the command on a workspace built by the commands, spoken to over
/// loopback HTTP: the token guards every route, a cross-origin POST is refused, and actions change the manifest.
@Suite(.serialized) struct ReviewServerTests {

    struct Fixture {
        let ws: ReviewWorkspace
        let server: ReviewProcess
        let client: LoopbackClient
        let keyword: String
        let sha: String
        var origin: String { "http://127.0.0.1:\(server.port)" }
        /// `route` under the session's capability path.
        func at(_ route: String) -> String { server.base + route }

        init(_ prefix: String) throws {
            ws = try ReviewWorkspace.build(prefix)
            server = try ReviewProcess(binary: CommandRunner.binary, workspace: ws.root)
            client = LoopbackClient(port: server.port)
            let kept = try ws.kept()
            keyword = try #require(kept.keys.sorted().first { !(kept[$0] ?? []).isEmpty })
            sha = try #require(kept[keyword]?.sorted().first)
        }

        func query(_ k: String) -> String { k.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? k }

        var routes: [(String, String)] {
            let k = query(keyword)
            return [("GET", "/"), ("GET", "/?sort=kept&needs=1"), ("GET", "/keyword?k=\(k)"), ("GET", "/descriptions?k=\(k)"),
                    ("GET", "/questions?k=\(k)"), ("GET", "/next"), ("GET", "/app.js"), ("GET", "/api/keywords?q=a"),
                    ("GET", "/thumb/\(sha)"), ("GET", "/image/\(sha)"), ("GET", "/no-such-page"), ("POST", "/action")]
        }
    }

    @Test func everyRouteAnswers403OutsideTheTokenPathAndServesUnderIt() throws {
        let f = try Fixture("review-http-token")
        defer { f.server.stop() }
        #expect(f.server.url.absoluteString == "http://127.0.0.1:\(f.server.port)/s/\(f.server.token)/")
        #expect(f.server.token.count == 64)
        for (method, path) in f.routes {
            let body = method == "POST" ? "kind=image&action=reject&keyword=\(f.query(f.keyword))&item=\(f.sha)" : nil
            let bare = try f.client.request(method, path, headers: ["Origin": f.origin], body: body)
            #expect(bare.status == 403, "\(method) \(path) without a token")
            // The token anywhere but the path (the old query parameter and cookie) opens nothing.
            let query = try f.client.request(method, path + (path.contains("?") ? "&" : "?") + "token=\(f.server.token)",
                                             headers: ["Origin": f.origin, "Cookie": "dsbuild_review=\(f.server.token)"], body: body)
            #expect(query.status == 403, "\(method) \(path) with the token in the query and a cookie")
            let wrong = try f.client.request(method, "/s/\(String(repeating: "0", count: 64))" + path, headers: ["Origin": f.origin], body: body)
            #expect(wrong.status == 403, "\(method) \(path) under a wrong token")
            let prefix = try f.client.request(method, "/s/\(f.server.token.prefix(63))" + path, headers: ["Origin": f.origin], body: body)
            #expect(prefix.status == 403, "\(method) \(path) under a token one character short")
            // The right token, but a name that is not this server (DNS rebinding).
            let rebound = try f.client.request(method, f.at(path), headers: ["Host": "attacker.example:\(f.server.port)", "Origin": f.origin], body: body)
            #expect(rebound.status == 403, "\(method) \(path) under another Host")
            for reply in [bare, query, wrong, prefix, rebound] {
                #expect(reply.headers["set-cookie"] == nil)
                #expect(reply.headers["x-frame-options"] == "DENY", "a refusal is not framed either")
                #expect(reply.headers["x-content-type-options"] == "nosniff")
            }
        }
        // Nothing changed.
        #expect((try f.ws.status()["reviews"] as? [String: Any])?["actions"] as? Int == 0)

        // Under the token path every page answers, sets no cookie, and may not be framed.
        // The token path without its slash is sent to the app's root (relative links need it).
        let bareRoot = try f.client.request("GET", f.server.base)
        #expect(bareRoot.status == 303)
        #expect(bareRoot.headers["location"] == f.server.base + "/")
        let first = try f.client.request("GET", f.at("/"))
        #expect(first.status == 200)
        #expect(first.text.contains(f.keyword))
        #expect(first.headers["set-cookie"] == nil, "no cookie: cookies are not port-isolated")
        // No link, form, image or script leaves the token path (every one is relative).
        for attribute in ["href=\"/", "src=\"/", "action=\"/", "fetch('/"] {
            #expect(!first.text.contains(attribute), "\(attribute) in the page")
            #expect(!(try f.client.request("GET", f.at("/app.js")).text.contains(attribute)), "\(attribute) in the script")
        }
        for (method, path) in f.routes where method == "GET" {
            let reply = try f.client.request("GET", f.at(path))
            let expected = path == "/no-such-page" ? 404 : path == "/next" ? 303 : 200
            #expect(reply.status == expected, "GET \(path) under the token path")
            #expect(reply.headers["set-cookie"] == nil)
            #expect(reply.headers["x-frame-options"] == "DENY", "GET \(path)")
            #expect(reply.headers["content-security-policy"] == "frame-ancestors 'none'", "GET \(path)")
            #expect(reply.headers["x-content-type-options"] == "nosniff", "GET \(path)")
            #expect(reply.headers["referrer-policy"] == "no-referrer", "GET \(path)")
        }
        // "next unreviewed" stays under the token path (a relative Location).
        let next = try f.client.request("GET", f.at("/next"))
        #expect(next.headers["location"]?.hasPrefix("keyword?") == true)
        let thumb = try f.client.request("GET", f.at("/thumb/\(f.sha)"))
        #expect(thumb.headers["content-type"] == "image/jpeg")
        #expect(thumb.body.starts(with: [0xFF, 0xD8, 0xFF]), "a JPEG made by the codecs")
        #expect(FileManager.default.fileExists(atPath: f.ws.root.appendingPathComponent("review/thumbs/\(f.sha).jpg").path), "cached")
    }

    @Test func anyPageNumberIsAPageNeverACrash() throws {
        let f = try Fixture("review-http-pages")
        defer { f.server.stop() }
        let k = f.query(f.keyword)
        for page in ["9223372036854775807", "9223372036854775806", "4611686018427387904", "153722867280912931", "99999999999999999999", "-9223372036854775808", "1000001"] {
            for route in ["/?page=\(page)", "/?sort=kept&needs=1&page=\(page)", "/keyword?k=\(k)&page=\(page)",
                          "/keyword?k=\(k)&unreviewed=1&page=\(page)", "/descriptions?k=\(k)&page=\(page)", "/questions?k=\(k)&page=\(page)"] {
                let reply = try f.client.request("GET", f.at(route))
                #expect(reply.status == 200, "GET \(route)")
                #expect(!reply.text.contains("data-sha=") || page.hasPrefix("-"), "GET \(route): a page past the end is empty")
            }
        }
        // The server is still up and the first page still lists the keyword's images.
        #expect(try f.client.request("GET", f.at("/keyword?k=\(k)")).text.contains("data-sha=\"\(f.sha)\""))
    }

    @Test func oversizedBodiesOtherMethodsAndEmptySelectionsAreRefusedPlainly() throws {
        let f = try Fixture("review-http-methods")
        defer { f.server.stop() }
        let big = "kind=image&action=reject&keyword=\(f.query(f.keyword))&item=" + String(repeating: "a", count: (1 << 20) + 10)
        let tooLarge = try f.client.request("POST", f.at("/action"), headers: ["Origin": f.origin], body: big)
        #expect(tooLarge.status == 413)
        for method in ["PUT", "DELETE", "PATCH"] {
            let reply = try f.client.request(method, f.at("/"), headers: ["Origin": f.origin], body: "")
            #expect(reply.status == 405, "\(method) /")
        }
        let none = try f.client.request("POST", f.at("/action"), headers: ["Origin": f.origin], body: "kind=image&action=reject&keyword=\(f.query(f.keyword))")
        #expect(none.status == 400)
        #expect(none.text.contains("no item"))
        #expect((try f.ws.status()["reviews"] as? [String: Any])?["actions"] as? Int == 0)
        #expect(try f.client.request("GET", f.at("/")).status == 200, "still serving")

        // A symlink planted in the image cache is not followed: the image is made again from the workspace's file.
        let secret = f.ws.tmp.path("secret.txt")
        try "not an image".write(to: secret, atomically: true, encoding: .utf8)
        let full = f.ws.root.appendingPathComponent("review/full")
        try FileManager.default.createDirectory(at: full, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: full.appendingPathComponent("\(f.sha).jpg"), withDestinationURL: secret)
        let image = try f.client.request("GET", f.at("/image/\(f.sha)"))
        #expect(image.status == 200)
        #expect(image.body.starts(with: [0xFF, 0xD8, 0xFF]), "a JPEG, not the symlink's target")

        // An empty reviewer name is refused before anything runs.
        let nameless = try f.ws.cli.run(["review", "--workspace", f.ws.root.path, "--reviewer", "", "--export", f.ws.tmp.path("x.jsonl").path])
        #expect(nameless.status != 0)
        #expect(nameless.stderr.contains("reviewer"))
    }

    @Test func crossOriginPostIsRefusedAndSameOriginActionsChangeTheManifest() throws {
        let f = try Fixture("review-http-actions")
        defer { f.server.stop() }
        let reject = "kind=image&action=reject&keyword=\(f.query(f.keyword))&item=\(f.sha)"
        for origin in ["http://evil.example", "null", ""] {
            let reply = try f.client.request("POST", f.at("/action"), headers: ["Origin": origin], body: reject)
            #expect(reply.status == 403, "POST with Origin \"\(origin)\"")
        }
        #expect(try f.ws.kept()[f.keyword]?.contains(f.sha) == true, "refused requests changed nothing")

        let ok = try f.client.request("POST", f.at("/action"), headers: ["Origin": f.origin], body: reject)
        #expect(ok.status == 200)
        #expect(ok.text.contains("\"ok\":true"))
        #expect(try f.ws.kept()[f.keyword]?.contains(f.sha) != true, "the reject reached the manifest")
        let page = try f.client.request("GET", f.at("/keyword?k=\(f.query(f.keyword))"))
        #expect(page.text.contains("human: reject"))

        // Relabel through HTTP, then undo it.
        let other = try #require(try f.ws.kept().keys.sorted().first { $0 != f.keyword })
        let sha2 = try #require(try f.ws.kept()[f.keyword]?.sorted().first)
        let relabel = "kind=image&action=relabel&keyword=\(f.query(f.keyword))&to=\(f.query(other))&item=\(sha2)"
        #expect(try f.client.request("POST", f.at("/action"), headers: ["Origin": f.origin], body: relabel).status == 200)
        #expect(try f.ws.kept()[other]?.contains(sha2) == true)
        #expect(try f.client.request("POST", f.at("/action"), headers: ["Origin": f.origin], body: "action=undo").status == 200)
        #expect(try f.ws.kept()[other]?.contains(sha2) != true)
        #expect(try f.ws.kept()[f.keyword]?.contains(sha2) == true)

        // A description edited through HTTP: a new accepted version, the old one kept, rejected.
        let did = try #require(try f.ws.open().manifest.read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM descriptions WHERE status = 'accepted' ORDER BY id LIMIT 1")
        })
        let edit = "kind=description&action=edit&item=\(did)&text=" + f.query("A reviewer's own description.")
        #expect(try f.client.request("POST", f.at("/action"), headers: ["Origin": f.origin], body: edit).status == 200)
        try f.ws.open().manifest.read { (db: Database) throws in
            #expect(try String.fetchOne(db, sql: "SELECT status FROM descriptions WHERE id = ?", arguments: [did]) == "rejected")
            #expect(try String.fetchOne(db, sql: "SELECT status FROM descriptions WHERE text = ? AND model = 'human'",
                                        arguments: ["A reviewer's own description."]) == "accepted")
        }

        // While another command holds the workspace lock, a write answers "workspace busy" and changes nothing.
        let lock = try WorkspaceLock.acquire(root: f.ws.root, command: "filter")
        let busy = try f.client.request("POST", f.at("/action"), headers: ["Origin": f.origin], body: "action=undo")
        #expect(busy.status == 409)
        #expect(busy.text.contains("workspace busy"))
        // Pages still read.
        #expect(try f.client.request("GET", f.at("/")).status == 200)
        lock.release()
        #expect(try f.ws.kept()[f.keyword]?.contains(f.sha) != true, "the reject is still in force")
    }

    @Test func thumbnailsAndFullImagesAreUprightCodecMadeJPEGs() throws {
        let f = try Fixture("review-http-upright")
        defer { f.server.stop() }
        let rotated = try #require(try f.ws.open().manifest.read { db in
            try String.fetchOne(db, sql: "SELECT sha256 FROM images WHERE orientation = 6")
        })
        for (path, side) in [("/thumb/\(rotated)", 192), ("/image/\(rotated)", 320)] {
            let reply = try f.client.request("GET", f.at(path))
            #expect(reply.status == 200)
            let image = try ImageDecoder.decode(data: reply.body).rgb()
            // Stored 320×200, shown portrait: 200×320 scaled to fit `side`.
            #expect(image.height == side, "\(path)")
            #expect(image.width == side * 200 / 320, "\(path)")
            // The stored top-left bright corner is shown at the top right.
            func luma(_ x: Int, _ y: Int) -> Int { Int(image.pixels[(y * image.width + x) * 3]) }
            #expect(luma(image.width - 3, 3) > 150, "\(path): top right is the bright corner")
            #expect(luma(3, 3) < 100, "\(path): top left is dark")
        }
        let grey = try #require(try f.ws.open().manifest.read { db in
            try String.fetchOne(db, sql: "SELECT sha256 FROM images WHERE width = 240 AND height = 240")
        })
        let reply = try f.client.request("GET", f.at("/thumb/\(grey)"))
        #expect(reply.status == 200)
        #expect(try ImageDecoder.decode(data: reply.body).width == 192)
        // Not an image of the workspace: 404, not a file read from elsewhere.
        #expect(try f.client.request("GET", f.at("/image/..%2F..%2Fetc%2Fpasswd")).status == 404)
    }
}
