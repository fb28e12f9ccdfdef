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
        var cookie: String { "dsbuild_review=\(server.token)" }

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

    @Test func everyRouteAnswers403WithoutTheTokenAndServesWithIt() throws {
        let f = try Fixture("review-http-token")
        defer { f.server.stop() }
        for (method, path) in f.routes {
            let body = method == "POST" ? "kind=image&action=reject&keyword=\(f.query(f.keyword))&item=\(f.sha)" : nil
            let bare = try f.client.request(method, path, headers: ["Origin": f.origin], body: body)
            #expect(bare.status == 403, "\(method) \(path) without a token")
            let wrong = try f.client.request(method, path + (path.contains("?") ? "&" : "?") + "token=0000", headers: ["Origin": f.origin], body: body)
            #expect(wrong.status == 403, "\(method) \(path) with a wrong token")
            let badCookie = try f.client.request(method, path, headers: ["Origin": f.origin, "Cookie": "dsbuild_review=nope"], body: body)
            #expect(badCookie.status == 403, "\(method) \(path) with a wrong cookie")
            // The right token, but a name that is not this server (DNS rebinding).
            let rebound = try f.client.request(method, path, headers: ["Host": "attacker.example:\(f.server.port)", "Cookie": f.cookie], body: body)
            #expect(rebound.status == 403, "\(method) \(path) under another Host")
        }
        // Nothing changed.
        #expect((try f.ws.status()["reviews"] as? [String: Any])?["actions"] as? Int == 0)

        // The token in the query sets the cookie; the cookie alone then opens every page.
        let first = try f.client.request("GET", "/?token=\(f.server.token)")
        #expect(first.status == 200)
        #expect(first.headers["set-cookie"]?.contains("dsbuild_review=\(f.server.token)") == true)
        #expect(first.headers["set-cookie"]?.contains("HttpOnly") == true)
        #expect(first.text.contains(f.keyword))
        for (method, path) in f.routes where method == "GET" {
            let reply = try f.client.request("GET", path, headers: ["Cookie": f.cookie])
            let expected = path == "/no-such-page" ? 404 : path == "/next" ? 303 : 200
            #expect(reply.status == expected, "GET \(path) with the cookie")
        }
        let thumb = try f.client.request("GET", "/thumb/\(f.sha)", headers: ["Cookie": f.cookie])
        #expect(thumb.headers["content-type"] == "image/jpeg")
        #expect(thumb.body.starts(with: [0xFF, 0xD8, 0xFF]), "a JPEG made by the codecs")
        #expect(FileManager.default.fileExists(atPath: f.ws.root.appendingPathComponent("review/thumbs/\(f.sha).jpg").path), "cached")
    }

    @Test func crossOriginPostIsRefusedAndSameOriginActionsChangeTheManifest() throws {
        let f = try Fixture("review-http-actions")
        defer { f.server.stop() }
        let reject = "kind=image&action=reject&keyword=\(f.query(f.keyword))&item=\(f.sha)"
        for origin in ["http://evil.example", "null", ""] {
            let reply = try f.client.request("POST", "/action", headers: ["Cookie": f.cookie, "Origin": origin], body: reject)
            #expect(reply.status == 403, "POST with Origin \"\(origin)\"")
        }
        #expect(try f.ws.kept()[f.keyword]?.contains(f.sha) == true, "refused requests changed nothing")

        let ok = try f.client.request("POST", "/action", headers: ["Cookie": f.cookie, "Origin": f.origin], body: reject)
        #expect(ok.status == 200)
        #expect(ok.text.contains("\"ok\":true"))
        #expect(try f.ws.kept()[f.keyword]?.contains(f.sha) != true, "the reject reached the manifest")
        let page = try f.client.request("GET", "/keyword?k=\(f.query(f.keyword))", headers: ["Cookie": f.cookie])
        #expect(page.text.contains("human: reject"))

        // Relabel through HTTP, then undo it.
        let other = try #require(try f.ws.kept().keys.sorted().first { $0 != f.keyword })
        let sha2 = try #require(try f.ws.kept()[f.keyword]?.sorted().first)
        let relabel = "kind=image&action=relabel&keyword=\(f.query(f.keyword))&to=\(f.query(other))&item=\(sha2)"
        #expect(try f.client.request("POST", "/action", headers: ["Cookie": f.cookie, "Origin": f.origin], body: relabel).status == 200)
        #expect(try f.ws.kept()[other]?.contains(sha2) == true)
        #expect(try f.client.request("POST", "/action", headers: ["Cookie": f.cookie, "Origin": f.origin], body: "action=undo").status == 200)
        #expect(try f.ws.kept()[other]?.contains(sha2) != true)
        #expect(try f.ws.kept()[f.keyword]?.contains(sha2) == true)

        // A description edited through HTTP: a new accepted version, the old one kept, rejected.
        let did = try #require(try f.ws.open().manifest.read { db in
            try Int64.fetchOne(db, sql: "SELECT id FROM descriptions WHERE status = 'accepted' ORDER BY id LIMIT 1")
        })
        let edit = "kind=description&action=edit&item=\(did)&text=" + f.query("A reviewer's own description.")
        #expect(try f.client.request("POST", "/action", headers: ["Cookie": f.cookie, "Origin": f.origin], body: edit).status == 200)
        try f.ws.open().manifest.read { (db: Database) throws in
            #expect(try String.fetchOne(db, sql: "SELECT status FROM descriptions WHERE id = ?", arguments: [did]) == "rejected")
            #expect(try String.fetchOne(db, sql: "SELECT status FROM descriptions WHERE text = ? AND model = 'human'",
                                        arguments: ["A reviewer's own description."]) == "accepted")
        }

        // While another command holds the workspace lock, a write answers "workspace busy" and changes nothing.
        let lock = try WorkspaceLock.acquire(root: f.ws.root, command: "filter")
        let busy = try f.client.request("POST", "/action", headers: ["Cookie": f.cookie, "Origin": f.origin], body: "action=undo")
        #expect(busy.status == 409)
        #expect(busy.text.contains("workspace busy"))
        // Pages still read.
        #expect(try f.client.request("GET", "/", headers: ["Cookie": f.cookie]).status == 200)
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
            let reply = try f.client.request("GET", path, headers: ["Cookie": f.cookie])
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
        let reply = try f.client.request("GET", "/thumb/\(grey)", headers: ["Cookie": f.cookie])
        #expect(reply.status == 200)
        #expect(try ImageDecoder.decode(data: reply.body).width == 192)
        // Not an image of the workspace: 404, not a file read from elsewhere.
        #expect(try f.client.request("GET", "/image/..%2F..%2Fetc%2Fpasswd", headers: ["Cookie": f.cookie]).status == 404)
    }
}
