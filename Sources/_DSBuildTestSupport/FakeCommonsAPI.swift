import Foundation
import Synchronization

/// A loopback Wikimedia Commons: the MediaWiki Action API (`generator=search` + `prop=imageinfo`,
/// formatversion 2, paging by `continue`) over a fixed keyword → files table, and the files themselves under
/// `/images/…`. Request counts per path let tests prove nothing is fetched twice.
public final class FakeCommonsAPI: @unchecked Sendable {
    public let server: LoopbackHTTPServer
    /// keyword → image files (absolute paths) served for it, in search rank order.
    public let files: [String: [URL]]
    /// Results per API page (small, so paging is exercised).
    public let pageSize: Int

    public var baseURL: String { server.url("").absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/")) }

    /// What a request for an image file gets, given the file's name, bytes and type; the default serves it.
    /// Fault-injection tests answer some files with failures instead.
    public typealias ImageReply = @Sendable (_ request: LoopbackRequest, _ name: String, _ data: Data, _ contentType: String) -> LoopbackResponse

    /// A reply to an API request, or nil to answer it normally (a test's injected failures).
    public typealias APIFault = @Sendable (_ request: LoopbackRequest) -> LoopbackResponse?

    public init(files: [String: [URL]], pageSize: Int = 2, apiFault: APIFault? = nil,
                imageReply: @escaping ImageReply = { _, _, data, type in .ok(data, contentType: type) }) throws {
        self.files = files
        self.pageSize = pageSize
        let table = files
        var byName: [String: URL] = [:]
        for list in files.values { for url in list { byName[url.lastPathComponent] = url } }
        let names = byName
        let size = pageSize
        server = try LoopbackHTTPServer(router: LoopbackRouter()
            .on("/w/api.php") { request in apiFault?(request) ?? Self.api(request, table: table, pageSize: size) }
            .on("/robots.txt") { _ in .status(404) }
            .onPrefix("/images/") { request in
                let name = String(request.path.dropFirst("/images/".count)).removingPercentEncoding ?? ""
                guard let url = names[name], let data = try? Data(contentsOf: url) else { return .status(404, body: "no such file") }
                let type = url.pathExtension.lowercased() == "png" ? "image/png" : "image/jpeg"
                return imageReply(request, name, data, type)
            })
    }

    public func stop() { server.stop() }

    static func api(_ request: LoopbackRequest, table: [String: [URL]], pageSize: Int) -> LoopbackResponse {
        let items = URLComponents(string: "http://x/?" + (request.query ?? ""))?.queryItems ?? []
        func value(_ name: String) -> String? { items.first { $0.name == name }?.value }
        let search = (value("gsrsearch") ?? "").replacingOccurrences(of: " filetype:bitmap", with: "")
        let offset = Int(value("gsroffset") ?? "0") ?? 0
        let list = table[search] ?? []
        let slice = list.dropFirst(offset).prefix(pageSize)
        let base = "http://127.0.0.1:\(request.header("Host")?.split(separator: ":").last ?? "80")"
        var pages: [[String: Any]] = []
        for (i, url) in slice.enumerated() {
            let name = url.lastPathComponent
            let encoded = name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? name
            pages.append([
                "pageid": 1000 + offset + i, "ns": 6, "title": "File:\(name)", "index": offset + i + 1,
                "imageinfo": [[
                    "url": "\(base)/images/\(encoded)", "descriptionurl": "\(base)/wiki/File:\(encoded)",
                    "width": 1024, "height": 768, "size": 123_456, "mime": "image/jpeg",
                    "sha1": String(repeating: "0", count: 40),
                    "extmetadata": [
                        "LicenseShortName": ["value": "CC BY-SA 4.0", "source": "commons-desc-page"],
                        "LicenseUrl": ["value": "https://creativecommons.org/licenses/by-sa/4.0", "source": "commons-desc-page"],
                        "Artist": ["value": "<a href=\"//commons.wikimedia.org/wiki/User:Example\">Example Photographer</a>", "source": "commons-desc-page"],
                        "ImageDescription": ["value": "<p>\(search) photographed in Korea</p>", "source": "commons-desc-page"],
                    ],
                ]],
            ])
        }
        var object: [String: Any] = ["batchcomplete": true]
        if !pages.isEmpty { object["query"] = ["pages": pages] }
        if offset + pageSize < list.count {
            object["continue"] = ["gsroffset": offset + pageSize, "continue": "gsroffset||"]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return .ok(data, contentType: "application/json; charset=utf-8")
    }
}

/// Deterministic answers for the whole pipeline (describe, Type 2 MCQs, watermark judge, eval), derived from a
/// hash of each request, so two runs over the same inputs get the same answers and a rerun after a kill matches.
public enum PipelineChatResponder {
    static let vocabulary = ("amber azure bronze cedar cobalt copper coral crimson ebony emerald flax garnet gilded "
        + "granite hazel indigo ivory jade jasper lacquer linen maple marble mulberry ochre olive onyx pearl pewter "
        + "pine plum quartz russet saffron sage sand sepia silk silver slate spruce teal thistle timber topaz umber "
        + "velvet walnut willow woven carved folded glazed hammered knotted layered painted pleated polished quilted "
        + "rounded stitched tapered twisted brim crown band rim handle lid base spout panel frame edge seam fold "
        + "stripe pattern motif border ribbon tassel knot cord bead").split(separator: " ").map(String.init)

    public static func respond(_ body: [String: Any]) -> FakeChatEndpoint.Behaviour {
        let text = FakeChatEndpoint.lastUserText(body)
        // The whole conversation (images included) decides the answer, as it would for a real model.
        let messages = (try? JSONSerialization.data(withJSONObject: body["messages"] ?? [], options: [.sortedKeys])) ?? Data()
        var seed = UInt64(truncatingIfNeeded: messages.reduce(UInt64(1469598103934665603)) { ($0 ^ UInt64($1)) &* 1099511628211 })
        func next() -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: (seed >> 33) % UInt64(vocabulary.count))
        }
        let format = body["response_format"] as? [String: Any]
        let schemaName = (format?["json_schema"] as? [String: Any])?["name"] as? String
        if schemaName == "watermark_judgement" {
            return .content(#"{"watermark": false, "evidence": "no mark visible"}"#)
        }
        if schemaName == "mcq" || text.contains("multiple-choice") {
            let tag = (0..<3).map { _ in vocabulary[next()] }.joined(separator: "-")
            let object: [String: Any] = [
                "question": "Which material is traditionally used for the \(vocabulary[next()]) part (\(tag))?",
                "answer": "\(vocabulary[next()]) \(tag) A",
                "distractors": ["\(vocabulary[next()]) \(tag) B", "\(vocabulary[next()]) \(tag) C", "\(vocabulary[next()]) \(tag) D"],
                "aspect": "cultural", "rationale": "The description says so.",
            ]
            let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            return .content(String(decoding: data, as: UTF8.self))
        }
        if let maxTokens = body["max_tokens"] as? Int ?? body["max_completion_tokens"] as? Int, maxTokens <= 5 {
            return .content(["A", "B", "C", "D"][next() % 4])
        }
        var words: [String] = []
        for _ in 0..<40 { words.append(vocabulary[next()]) }
        let sentence = words.joined(separator: " ")
        return .content("It shows \(sentence). The surface is \(words.prefix(6).joined(separator: ", ")), finished with care.")
    }
}
