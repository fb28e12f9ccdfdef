@testable import Collect
import Foundation
import Synchronization
import Testing

/// Each source against canned responses in the real API shapes: paging, licence filter, provenance.
@Suite struct SourceParsingTests {
    // MARK: Commons

    static func commonsPage(_ range: Range<Int>, continueFrom next: Int?) -> [String: Any] {
        var object: [String: Any] = [
            "batchcomplete": true,
            "query": ["pages": range.map { i -> [String: Any] in
                [
                    "pageid": 1000 + i, "ns": 6, "title": "File:Kimchi \(i).jpg", "index": i + 1,
                    "imageinfo": [[
                        "url": "https://upload.wikimedia.org/wikipedia/commons/a/ab/Kimchi_\(i).jpg",
                        "descriptionurl": "https://commons.wikimedia.org/wiki/File:Kimchi_\(i).jpg",
                        "width": 4000, "height": 3000, "size": 2_000_000, "mime": "image/jpeg", "sha1": "abc\(i)",
                        "thumburl": "https://upload.wikimedia.org/wikipedia/commons/thumb/a/ab/Kimchi_\(i).jpg/1280px-Kimchi_\(i).jpg",
                        "thumbwidth": 1280, "thumbheight": 960,
                        "extmetadata": [
                            "Artist": ["value": "<a href=\"//commons.wikimedia.org/wiki/User:Jane\">Jane</a>", "source": "commons-desc-page"],
                            "LicenseShortName": ["value": i % 3 == 2 ? "CC BY-NC 2.0" : "CC BY-SA 4.0", "source": "commons-desc-page"],
                            "LicenseUrl": ["value": "https://creativecommons.org/licenses/by-sa/4.0", "source": "commons-desc-page"],
                            "ImageDescription": ["value": "<p>Kimchi in a <b>jar</b></p>", "source": "commons-desc-page"],
                        ],
                    ]],
                ]
            }],
        ]
        if let next { object["continue"] = ["gsroffset": next, "continue": "gsroffset||"] }
        return object
    }

    @Test func commonsPagesByContinueFiltersLicencesAndStripsHTML() async throws {
        let lagged = Mutex(false)
        let fetcher = FakeFetcher { request in
            // The first request meets replication lag once.
            if lagged.withLock({ let was = $0; $0 = true; return !was }) {
                return FakeFetcher.json(["error": ["code": "maxlag", "info": "Waiting for a database server: 7 seconds lagged"]],
                                        headers: ["Retry-After": "7"])
            }
            let offset = Int(request.value("gsroffset") ?? "0")!
            return FakeFetcher.json(Self.commonsPage(offset..<offset + 6, continueFrom: offset + 6))
        }
        let waits = WaitLog()
        let source = CommonsSource(baseURL: "http://127.0.0.1:9/root/", thumbnailWidth: 1000)
        let found = try await source.candidates(for: "kimchi", keyword: "kimchi", limit: 10, context: sourceContext(fetcher, waits: waits))
        #expect(found.count == 10)
        #expect(found.allSatisfy { $0.license == "cc-by-sa" })
        #expect(waits.all == [7])
        let first = try #require(found.first)
        #expect(first.author == "Jane")
        #expect(first.description == "Kimchi in a jar")
        #expect(first.imageURL.contains("1280px-"))
        #expect(first.declaredWidth == 1280)
        #expect(first.sourceID == "File:Kimchi 0.jpg")
        let requests = fetcher.requested
        #expect(requests.first?.path == "/root/w/api.php")
        #expect(requests.first?.value("iiurlwidth") == "1280")
        #expect(requests.first?.value("gsrsearch") == "kimchi filetype:bitmap")
        #expect(requests.first?.value("formatversion") == "2")
        #expect(requests.last?.value("gsroffset") == "12")
        #expect(requests.last?.value("continue") == "gsroffset||")
    }

    @Test(arguments: [(1, 20), (250, 250), (800, 960), (5000, 3840)])
    func commonsRoundsThumbnailWidthsUp(asked: Int, served: Int) {
        #expect(CommonsSource.standardWidth(atLeast: asked) == served)
    }

    @Test func commonsGivesUpAfterPersistentMaxlag() async {
        let fetcher = FakeFetcher { _ in FakeFetcher.json(["error": ["code": "maxlag", "info": "lagged"]], headers: ["Retry-After": "1"]) }
        let waits = WaitLog()
        await #expect(throws: CollectError.self) {
            _ = try await CommonsSource(baseURL: "http://x", maxLagRetries: 2)
                .candidates(for: "k", keyword: "k", limit: 5, context: sourceContext(fetcher, waits: waits))
        }
        #expect(waits.all == [5, 5])
    }

    // MARK: iNaturalist

    @Test func iNaturalistResolvesTaxonThenPagesByIDAbove() async throws {
        let fetcher = FakeFetcher { request in
            if request.path == "/v1/taxa" {
                return FakeFetcher.json(["total_results": 1, "results": [["id": 47219, "name": "Apis mellifera"]]])
            }
            let above = Int(request.value("id_above") ?? "0")!
            if above >= 300 { return FakeFetcher.json(["total_results": 3, "results": []]) }
            let observations = (1...2).map { n -> [String: Any] in
                let id = above + n * 100
                return [
                    "id": id, "uri": "https://www.inaturalist.org/observations/\(id)", "user": ["login": "bee\(id)"],
                    "taxon": ["name": "Apis mellifera"],
                    "photos": [
                        ["id": id * 10, "license_code": "cc-by", "attribution": "(c) bee, some rights reserved (CC BY)",
                         "url": "https://inaturalist-open-data.s3.amazonaws.com/photos/\(id * 10)/square.jpg",
                         "original_dimensions": ["width": 2048, "height": 1536]],
                        ["id": id * 10 + 1, "license_code": "cc-by-nc", "attribution": "(c) x",
                         "url": "https://inaturalist-open-data.s3.amazonaws.com/photos/\(id * 10 + 1)/square.jpg"],
                    ],
                ]
            }
            return FakeFetcher.json(["total_results": 4, "results": observations])
        }
        let source = INaturalistSource(baseURL: "http://127.0.0.1:9", photoSize: "medium")
        let found = try await source.candidates(for: "honey bee", keyword: "honey bee", limit: 3, context: sourceContext(fetcher))
        #expect(found.map { $0.sourceID } == ["1000", "2000", "3000"])
        #expect(found.allSatisfy { $0.imageURL.hasSuffix("/medium.jpg") && $0.license == "cc-by" })
        #expect(found[0].extra["user_login"] == "bee100")
        let observationRequests = fetcher.requested.filter { $0.path == "/v1/observations" }
        #expect(observationRequests.map { $0.value("id_above") } == ["0", "200"])
        #expect(observationRequests.first?.value("taxon_id") == "47219")
        #expect(observationRequests.first?.value("photo_license") == "cc-by,cc-by-sa,cc0")
    }

    // MARK: Openverse

    @Test func openverseKeepsPageSizeAtTwentyAndPages() async throws {
        let fetcher = FakeFetcher { request in
            let page = Int(request.value("page")!)!
            let results = (0..<20).map { i -> [String: Any] in
                ["id": "ov-\(page)-\(i)", "title": "Hanbok \(i)", "url": "https://example.org/\(page)/\(i).jpg",
                 "foreign_landing_url": "https://example.org/p/\(i)", "creator": "Kim", "license": i == 0 ? "by-nc" : "by",
                 "license_version": "2.0", "provider": "flickr", "width": 800, "height": 600, "filetype": "jpg",
                 "tags": [["name": "hanbok"]]]
            }
            return FakeFetcher.json(["result_count": 100, "page_count": 5, "page_size": 20, "page": page, "results": results])
        }
        let found = try await OpenverseSource(baseURL: "http://x").candidates(for: "hanbok", keyword: "hanbok", limit: 30,
                                                                                context: sourceContext(fetcher))
        #expect(found.count == 30)
        #expect(found.allSatisfy { $0.license == "cc-by" })
        #expect(fetcher.requested.map { $0.value("page_size") } == ["20", "20"])
        #expect(fetcher.requested.map { $0.value("page") } == ["1", "2"])
        #expect(found[0].extra["tags"] == "hanbok")
    }

    // MARK: GBIF

    @Test func gbifTakesMediaAndPagesByOffset() async throws {
        let fetcher = FakeFetcher { request in
            let offset = Int(request.value("offset")!)!
            let results = (0..<2).map { i -> [String: Any] in
                ["key": 4000 + offset + i, "scientificName": "Parus major", "license": "http://creativecommons.org/licenses/by/4.0/legalcode",
                 "media": [["type": "StillImage", "format": "image/jpeg", "identifier": "https://img.example/\(offset + i).jpg",
                            "license": "http://creativecommons.org/licenses/by-nc/4.0/", "creator": "A"],
                           ["type": "StillImage", "format": "image/jpeg", "identifier": "https://img.example/\(offset + i)b.jpg",
                            "license": "http://creativecommons.org/publicdomain/zero/1.0/", "rightsHolder": "B"]]]
            }
            return FakeFetcher.json(["offset": offset, "limit": 2, "endOfRecords": offset >= 2, "results": results])
        }
        let found = try await GBIFSource(baseURL: "http://x", pageSize: 2).candidates(for: "great tit", keyword: "great tit", limit: 10,
                                                                                      context: sourceContext(fetcher))
        // Only the CC0 media pass: the record's CC BY does not override a medium's CC BY-NC.
        #expect(found.map { $0.imageURL } == ["https://img.example/0b.jpg", "https://img.example/1b.jpg",
                                          "https://img.example/2b.jpg", "https://img.example/3b.jpg"])
        #expect(found.allSatisfy { $0.license == "cc0" && $0.author == "B" })
        #expect(fetcher.requested.map { $0.value("mediaType") } == ["StillImage", "StillImage"])
    }

    // MARK: Flickr

    @Test func flickrMapsLicenceIDsAndNeverLeaksTheKey() async throws {
        let fetcher = FakeFetcher { request in
            if request.value("page") == "2" { return FakeFetcher.json(["stat": "fail", "code": 100, "message": "Invalid API Key"]) }
            let photos: [[String: Any]] = [
                ["id": "1", "owner": "o@N1", "title": "Temple", "license": "4", "ownername": "Lee",
                 "url_l": "https://live.staticflickr.com/1/1_l.jpg", "width_l": 1024, "height_l": 768,
                 "description": ["_content": "A <i>temple</i>"]],
                ["id": "2", "owner": "o@N2", "title": "x", "license": "2", "url_m": "https://live.staticflickr.com/1/2_m.jpg"],
            ]
            return FakeFetcher.json(["photos": ["page": 1, "pages": 1, "perpage": 500, "photo": photos], "stat": "ok"])
        }
        let source = try FlickrSource(baseURL: "http://x", environment: ["FLICKR_API_KEY": "s3cret"])
        let found = try await source.candidates(for: "temple", keyword: "temple", limit: 5, context: sourceContext(fetcher))
        #expect(found.count == 1)
        #expect(found[0].license == "cc-by")
        #expect(found[0].description == "A temple")
        #expect(found[0].declaredWidth == 1024)
        #expect(!"\(found)".contains("s3cret"))
        #expect(fetcher.requested.first?.value("license") == "4,5,9,10")
        #expect(throws: CollectError.self) { try FlickrSource(environment: [:]) }
    }
}
