import Dataset
import Foundation
import GRDB
import Testing
import _DSBuildTestSupport

/// iNaturalist, Openverse and GBIF through `dsbuild collect` against loopback servers that answer in the real
/// JSON shapes, page, and serve real K-Viscuit images: the API requests go through the HTTP engine (with the
/// sources' rate limits), the images through the downloader, and everything lands in the manifest.
@Suite(.serialized) struct SourcesOverLoopbackTests {
    static func images() -> [URL] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: TestPaths.kViscuitImages.path)) ?? []
        return files.filter { $0.hasSuffix(".jpg") }.sorted().prefix(40).map { TestPaths.kViscuitImages.appendingPathComponent($0) }
    }

    /// The loopback server's base URL without the trailing slash, for `base_url:` in a recipe.
    static func baseURL(_ server: LoopbackHTTPServer) -> String {
        server.url("").absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
    }

    /// Writes the keywords Gat and Hanbok and `recipe` into `tmp`, and `dsbuild init`s a workspace named `name`
    /// from them; returns the workspace path.
    static func initWorkspace(_ tmp: TemporaryDirectory, _ name: String, recipe: String, cli: CommandRunner) throws -> String {
        try "keyword\nGat\nHanbok\n".write(to: tmp.path("k.csv"), atomically: true, encoding: .utf8)
        try recipe.write(to: tmp.path("\(name).yaml"), atomically: true, encoding: .utf8)
        let ws = tmp.path(name).path
        let created = try cli.run(["init", ws, "--keywords", tmp.path("k.csv").path, "--recipe", tmp.path("\(name).yaml").path])
        #expect(created.status == 0, "\(created.stderr)")
        return ws
    }

    static func serve(_ files: [URL], _ index: Int) -> LoopbackResponse {
        guard index >= 0, let data = try? Data(contentsOf: files[index % files.count]) else { return .status(404) }
        return .ok(data, contentType: "image/jpeg")
    }

    @Test func iNaturalistOpenverseAndGBIFCandidatesAreSearchedPagedAndDownloaded() throws {
        let files = Self.images()
        #expect(files.count >= 30)
        let router = LoopbackRouter()
            .on("/robots.txt") { _ in .status(404) }
            // iNaturalist: taxa, then observations paged by id_above; photo URLs point at the `square` size.
            .on("/v1/taxa") { request in
                let q = URLComponents(string: "http://x/?" + (request.query ?? ""))?.queryItems?.first { $0.name == "q" }?.value ?? ""
                let id = q == "Gat" ? 1 : 2
                return .ok(try! JSONSerialization.data(withJSONObject: ["total_results": 1, "results": [["id": id, "name": q]]]),
                           contentType: "application/json")
            }
            .on("/v1/observations") { request in
                let items = URLComponents(string: "http://x/?" + (request.query ?? ""))?.queryItems ?? []
                let above = Int(items.first { $0.name == "id_above" }?.value ?? "0") ?? 0
                let taxon = Int(items.first { $0.name == "taxon_id" }?.value ?? "0") ?? 0
                let host = request.header("Host") ?? ""
                let results: [[String: Any]] = above >= 4 ? [] : (1...2).map { n in
                    let id = above + n
                    let photo = taxon * 100 + id
                    return ["id": id, "uri": "https://www.inaturalist.org/observations/\(id)", "user": ["login": "u\(id)"],
                            "photos": [["id": photo, "license_code": "cc-by", "attribution": "(c) u\(id), some rights reserved (CC BY)",
                                        "url": "http://\(host)/photos/\(photo)/square.jpg",
                                        "original_dimensions": ["width": 2048, "height": 1536]]]]
                }
                return .ok(try! JSONSerialization.data(withJSONObject: ["total_results": 3, "results": results]), contentType: "application/json")
            }
            .onPrefix("/photos/") { request in
                let parts = request.path.split(separator: "/")
                guard parts.count == 3, parts[2] == "medium.jpg", let n = Int(parts[1]) else { return .status(404) }
                return Self.serve(files, n)
            }
            // Openverse: page_size ≤ 20, pages.
            .on("/v1/images/") { request in
                let host = request.header("Host") ?? ""
                let q = URLComponents(string: "http://x/?" + (request.query ?? ""))?.queryItems?.first { $0.name == "q" }?.value ?? ""
                let base = q == "Gat" ? 10 : 20
                let results = (0..<3).map { i -> [String: Any] in
                    ["id": "ov-\(base + i)", "title": "\(q) \(i)", "url": "http://\(host)/ov/\(base + i).jpg",
                     "foreign_landing_url": "https://example.org/ov/\(base + i)", "creator": "Kim", "license": "by",
                     "license_version": "4.0", "provider": "flickr", "width": 1024, "height": 768, "filetype": "jpg"]
                }
                return .ok(try! JSONSerialization.data(withJSONObject: ["result_count": 3, "page_count": 1, "page_size": 20, "page": 1,
                                                                        "results": results]), contentType: "application/json")
            }
            .onPrefix("/ov/") { request in Self.serve(files, Int(request.path.dropFirst(4).dropLast(4)) ?? -1) }
            // GBIF: occurrences with media[], paged by offset.
            .on("/v1/occurrence/search") { request in
                let items = URLComponents(string: "http://x/?" + (request.query ?? ""))?.queryItems ?? []
                let offset = Int(items.first { $0.name == "offset" }?.value ?? "0") ?? 0
                let q = items.first { $0.name == "q" }?.value ?? ""
                let host = request.header("Host") ?? ""
                let base = q == "Gat" ? 30 : 35
                let results = (0..<2).map { i -> [String: Any] in
                    ["key": 4000 + offset + i, "media": [["type": "StillImage", "format": "image/jpeg",
                                                          "identifier": "http://\(host)/gbif/\(base + offset + i).jpg",
                                                          "license": "http://creativecommons.org/publicdomain/zero/1.0/",
                                                          "rightsHolder": "GBIF contributor"]]]
                }
                return .ok(try! JSONSerialization.data(withJSONObject: ["offset": offset, "limit": 2, "endOfRecords": offset >= 2,
                                                                        "results": results]), contentType: "application/json")
            }
            .onPrefix("/gbif/") { request in Self.serve(files, Int(request.path.dropFirst(6).dropLast(4)) ?? -1) }
        let server = try LoopbackHTTPServer(router: router)
        defer { server.stop() }
        let base = Self.baseURL(server)

        let tmp = TemporaryDirectory("sources-loopback")
        let cli = CommandRunner()
        let ws = try Self.initWorkspace(tmp, "ws", recipe: """
            collect:
              per_keyword: 3
              allow_hosts: ["127.0.0.1:\(server.port)"]
              sources:
                inaturalist:
                  base_url: \(base)
                  photo_size: medium
                openverse:
                  base_url: \(base)
                gbif:
                  base_url: \(base)
            """, cli: cli)
        let result = try cli.run(["collect", "--workspace", ws, "--json"])
        #expect(result.status == 0, "\(result.stderr)")

        let workspace = try Workspace.open(at: URL(fileURLWithPath: ws))
        let perSource = try workspace.manifest.read { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: """
                SELECT c.source, COUNT(*) FROM candidates c JOIN downloads d ON d.candidate_id = c.id
                WHERE d.status = 'ok' GROUP BY c.source
                """).map { ($0[0] as String, $0[1] as Int) })
        }
        #expect(perSource == ["inaturalist": 6, "openverse": 6, "gbif": 6])
        let licences = try workspace.manifest.read { db in try Set(String.fetchAll(db, sql: "SELECT DISTINCT license FROM candidates")) }
        #expect(licences == ["cc-by", "cc0"])
        // Paging happened through the engine: two observation pages and two GBIF pages per keyword.
        #expect(server.requestCount("/v1/observations") == 4)
        #expect(server.requestCount("/v1/occurrence/search") == 4)
        #expect(server.requestCount("/v1/taxa") == 2)
        // Every image was downloaded once; a rerun asks for nothing again.
        let imageRequests = server.totalRequests
        let again = try cli.run(["collect", "--workspace", ws, "--json"])
        #expect(again.status == 0, "\(again.stderr)")
        let status = try cli.run(["status", "--workspace", ws, "--json"]).json()
        #expect((status["downloads"] as? [String: Any])?["ok"] as? Int == 18)
        #expect(server.totalRequests - imageRequests <= 8, "a rerun searches again at most, never downloads again")
    }

    /// Flickr's REST API (`flickr.photos.search`, `stat`/`photos` envelope, string licence ids, `url_l` sizes, pages):
    /// candidates are searched, licence-filtered and downloaded; the API key from the environment reaches the
    /// server but never the manifest, the output or an error message, and a rejected key stops with Flickr's reason.
    @Test func flickrIsSearchedPagedAndDownloadedAndItsKeyStaysSecret() throws {
        let files = Self.images()
        let key = "flickr-SECRET-key-0123456789"
        let router = LoopbackRouter()
            .on("/robots.txt") { _ in .status(404) }
            .on("/services/rest/") { request in
                let items = URLComponents(string: "http://x/?" + (request.query ?? ""))?.queryItems ?? []
                func item(_ name: String) -> String? { items.first { $0.name == name }?.value }
                let json = { (object: [String: Any]) in
                    LoopbackResponse.ok(try! JSONSerialization.data(withJSONObject: object), contentType: "application/json")
                }
                guard item("method") == "flickr.photos.search", item("format") == "json", item("nojsoncallback") == "1" else {
                    return json(["stat": "fail", "code": 112, "message": "Method not found"])
                }
                guard item("api_key") == key else { return json(["stat": "fail", "code": 100, "message": "Invalid API Key (Key not found)"]) }
                let page = Int(item("page") ?? "1") ?? 1
                let base = item("text") == "Gat" ? 0 : 10
                let host = request.header("Host") ?? ""
                // Page 1: a CC BY photo, an all-rights-reserved one (licence 0, filtered out) and a CC BY-SA one
                // with only a medium size; page 2: one more CC BY.
                let photos: [[String: Any]] = page == 1 ? [
                    ["id": "\(base + 1)", "owner": "1@N01", "ownername": "Kim", "title": "one", "license": "4",
                     "description": ["_content": "A <b>gat</b> &amp; more"],
                     "url_l": "http://\(host)/fl/\(base + 1)_l.jpg", "width_l": 1024, "height_l": 768],
                    ["id": "\(base + 2)", "owner": "2@N02", "title": "two", "license": "0",
                     "url_l": "http://\(host)/fl/\(base + 2)_l.jpg", "width_l": 1024, "height_l": 768],
                    ["id": "\(base + 3)", "owner": "3@N03", "title": "three", "license": "5",
                     "url_m": "http://\(host)/fl/\(base + 3)_m.jpg", "width_m": 500, "height_m": 375],
                ] : [
                    ["id": "\(base + 4)", "owner": "4@N04", "title": "four", "license": "4",
                     "url_l": "http://\(host)/fl/\(base + 4)_l.jpg", "width_l": 800, "height_l": 600],
                ]
                return json(["stat": "ok", "photos": ["page": page, "pages": 2, "perpage": 3, "total": "4", "photo": photos]])
            }
            .onPrefix("/fl/") { request in
                Self.serve(files, Int(request.path.dropFirst(4).prefix { $0.isNumber }) ?? -1)
            }
        let server = try LoopbackHTTPServer(router: router)
        defer { server.stop() }
        let tmp = TemporaryDirectory("flickr-loopback")
        let recipe = """
            collect:
              per_keyword: 5
              allow_hosts: ["127.0.0.1:\(server.port)"]
              sources:
                flickr:
                  base_url: \(Self.baseURL(server))
            """
        let cli = CommandRunner(environment: ["FLICKR_API_KEY": key])
        let ws = try Self.initWorkspace(tmp, "ws", recipe: recipe, cli: cli)
        let result = try cli.run(["collect", "--workspace", ws, "--json", "--verbose"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(server.requestCount("/services/rest/") == 4, "two pages per keyword")

        let workspace = try Workspace.open(at: URL(fileURLWithPath: ws))
        let rows = try workspace.manifest.read { db in
            try Row.fetchAll(db, sql: """
                SELECT c.source_id, c.license, c.author, c.description, c.page_url, d.status FROM candidates c
                LEFT JOIN downloads d ON d.candidate_id = c.id ORDER BY CAST(c.source_id AS INTEGER)
                """)
        }
        #expect(rows.map { $0["source_id"] as String } == ["1", "3", "4", "11", "13", "14"], "licence 0 is filtered out")
        #expect(rows.map { $0["license"] as String } == ["cc-by", "cc-by-sa", "cc-by", "cc-by", "cc-by-sa", "cc-by"])
        #expect(rows.allSatisfy { $0["status"] as String? == "ok" })
        #expect(rows.first?["author"] as String? == "Kim" && rows.first?["description"] as String? == "A gat & more")
        #expect(rows.first?["page_url"] as String? == "https://www.flickr.com/photos/1@N01/1")

        // The key went to the API and nowhere else.
        #expect(!result.stdout.contains(key) && !result.stderr.contains(key))
        let stored = try FileManager.default.subpathsOfDirectory(atPath: ws).filter { !$0.hasPrefix("images/") }
        for path in stored {
            let full = URL(fileURLWithPath: ws).appendingPathComponent(path)
            guard let data = try? Data(contentsOf: full) else { continue }
            #expect(data.range(of: Data(key.utf8)) == nil, "the API key is in \(path)")
        }

        // The run recorded the settings it applied: the variable's name, never its value.
        let recorded = try workspace.manifest.read { db in
            try String.fetchAll(db, sql: "SELECT settings FROM runs WHERE command IN ('search', 'download') ORDER BY id")
        }
        #expect(recorded.count == 2)
        #expect(recorded.allSatisfy { $0.contains("\"api_key_env\":\"FLICKR_API_KEY\"") && $0.contains(Self.baseURL(server)) && !$0.contains(key) },
                "\(recorded)")

        // A key Flickr rejects: the search fails with Flickr's reason, masked, and the exit status says so.
        let bad = CommandRunner(environment: ["FLICKR_API_KEY": "wrong-key-987654"])
        let ws2 = try Self.initWorkspace(tmp, "ws2", recipe: recipe, cli: bad)
        let failed = try bad.run(["collect", "--workspace", ws2])
        #expect(failed.status != 0)
        #expect(failed.stderr.contains("Flickr error 100: Invalid API Key"), "\(failed.stderr)")
        #expect(!failed.stderr.contains("wrong-key-987654") && !failed.stdout.contains("wrong-key-987654"))
    }
}
