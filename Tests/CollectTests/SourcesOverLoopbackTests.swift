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
        let base = server.url("").absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/"))

        let tmp = TemporaryDirectory("sources-loopback")
        try "keyword\nGat\nHanbok\n".write(to: tmp.path("k.csv"), atomically: true, encoding: .utf8)
        try """
            collect:
              per_keyword: 3
              sources:
                inaturalist:
                  base_url: \(base)
                  photo_size: medium
                openverse:
                  base_url: \(base)
                gbif:
                  base_url: \(base)
            """.write(to: tmp.path("r.yaml"), atomically: true, encoding: .utf8)
        let cli = CommandRunner()
        let ws = tmp.path("ws").path
        #expect(try cli.run(["init", ws, "--keywords", tmp.path("k.csv").path, "--recipe", tmp.path("r.yaml").path]).status == 0)
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
}
