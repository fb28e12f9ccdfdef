import Dataset
import Foundation
import GRDB
import Hummingbird
import Logging

import Review

/// `dsbuild review`'s web app: Hummingbird 2 on 127.0.0.1 (a free port unless one is given), served under the
/// capability path `/s/<token>/`; every request is checked by `ReviewAccess` before it is routed. Pages read the manifest (WAL readers never wait for a writer, nor take
/// the workspace lock); each POST takes the workspace lock for its write, or answers 409 "workspace busy".
public struct ReviewWebServer: Sendable {
    public let workspace: Workspace
    public let reviewer: String
    public let port: Int
    public let token: String
    public let logger: Logger
    static let pageSize = 60
    static let keywordPageSize = 100
    /// The largest `?page=` read (a larger one is that page: empty), so a page's offset never overflows.
    static let maxPage = 1_000_000
    /// The largest POST body read (413 beyond).
    static let maxBody = 1 << 20

    public init(workspace: Workspace, reviewer: String, port: Int, token: String = ReviewAccess.newToken(), logger: Logger) {
        self.workspace = workspace
        self.reviewer = reviewer
        self.port = port
        self.token = token
        self.logger = logger
    }

    /// Serves until cancelled; `ready` gets the URL with the session token once the port is bound.
    public func run(ready: @escaping @Sendable (URL) -> Void) async throws {
        let bound = PortBox()
        // Hummingbird's own lines (a cancelled child channel at Ctrl-C) only with --verbose; request errors are ours.
        var serverLogger = logger
        if serverLogger.logLevel > .debug { serverLogger.logLevel = .critical }
        let app = Application(
            responder: CallbackResponder<BasicRequestContext> { request, _ in
                guard let port = bound.port else { return Response(status: .serviceUnavailable) }
                return await self.respond(to: request, access: ReviewAccess(token: self.token, port: port))
            },
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? self.port
                bound.set(port)
                ready(URL(string: "http://127.0.0.1:\(port)" + ReviewAccess(token: self.token, port: port).basePath)!)
            },
            logger: serverLogger)
        try await app.run()
    }

    // MARK: Routing

    func respond(to request: Request, access: ReviewAccess) async -> Response {
        let started = ContinuousClock.now
        var response = await route(request, access: access)
        Self.secure(&response)
        // The server's own time for the request (bench/review reads it).
        let elapsed = ContinuousClock.now - started
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        response.headers[.init("Server-Timing")!] = "app;dur=\(String(format: "%.2f", ms))"
        return response
    }

    /// The headers every answer carries, refusals and errors included: not cached unless said, not sniffed, no
    /// referrer (the token is in the path), never framed by another page.
    static func secure(_ response: inout Response) {
        response.headers[.cacheControl] = response.headers[.cacheControl] ?? "no-store"
        response.headers[.init("X-Content-Type-Options")!] = "nosniff"
        response.headers[.init("Referrer-Policy")!] = "no-referrer"
        response.headers[.init("X-Frame-Options")!] = "DENY"
        response.headers[.init("Content-Security-Policy")!] = "frame-ancestors 'none'"
    }

    func route(_ request: Request, access: ReviewAccess) async -> Response {
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        let isPost = request.method == .post
        if let refusal = access.refusal(path: request.uri.path, host: request.head.authority,
                                        origin: request.headers[.origin], changesState: isPost) {
            return Self.text("forbidden: \(refusal)\n", status: .forbidden)
        }
        guard let path = ReviewAccess.split(path: request.uri.path)?.route, !path.isEmpty else {
            // `/s/<token>`: the app's relative links need the trailing slash.
            return Response(status: .seeOther, headers: [.location: access.basePath])
        }
        guard request.method == .get || request.method == .head || isPost else {
            return Self.text("method not allowed\n", status: .methodNotAllowed)
        }
        do {
            switch (request.method, path) {
            case (.post, "/action"):
                var body = ByteBuffer()
                for try await var chunk in request.body {
                    guard body.readableBytes + chunk.readableBytes <= Self.maxBody else {
                        return Self.text("request body over \(Self.maxBody) bytes\n", status: .contentTooLarge)
                    }
                    body.writeBuffer(&chunk)
                }
                return await ReviewActions(workspace: workspace, reviewer: reviewer).handle(form: String(buffer: body))
            case (.post, _):
                return Self.text("method not allowed\n", status: .methodNotAllowed)
            case (_, "/"): return try await keywordsPage(query)
            case (_, "/keyword"): return try await imagesPage(query)
            case (_, "/descriptions"): return try await descriptionsPage(query)
            case (_, "/questions"): return try await questionsPage(query)
            case (_, "/next"): return try await nextUnreviewed()
            case (_, "/app.js"):
                return Self.body(ReviewScript.source, type: "text/javascript; charset=utf-8")
            case (_, "/api/keywords"):
                let q = query["q"] ?? ""
                let names = try await workspace.manifest.asyncRead { db in try ReviewQueries.keywordTexts(matching: q, limit: 20, in: db) }
                return Self.body(JSONText.encodeObject(names), type: "application/json")
            case (_, let path) where path.hasPrefix("/thumb/") || path.hasPrefix("/image/"):
                let thumb = path.hasPrefix("/thumb/")
                let sha = String(path.dropFirst(7))
                guard let data = try await ReviewImages(workspace: workspace).jpeg(sha256: sha, side: thumb ? ReviewImages.thumbnailSide : ReviewImages.fullSide) else {
                    return Self.text("no such image\n", status: .notFound)
                }
                return Response(status: .ok, headers: [.contentType: "image/jpeg", .cacheControl: "private, max-age=86400"],
                                body: .init(byteBuffer: ByteBuffer(bytes: data)))
            default:
                return Self.text("not found\n", status: .notFound)
            }
        } catch {
            logger.error("review: \(path): \(error)")
            return Self.text("error: \(error)\n", status: .internalServerError)
        }
    }

    /// The `?page=` of a paged route: 0 when absent, negative or not a number, at most `maxPage` (a number too large
    /// for an Int too).
    static func page(_ query: [String: String]) -> Int {
        guard let text = query["page"], !text.isEmpty else { return 0 }
        guard let page = Int(text) else { return text.allSatisfy { ("0"..."9").contains($0) } ? maxPage : 0 }
        return min(maxPage, max(0, page))
    }

    // MARK: Pages

    func keywordsPage(_ query: [String: String]) async throws -> Response {
        let sort = query["sort"].flatMap { ReviewQueries.Sort(rawValue: $0) } ?? .keyword
        let category = query["category"].flatMap { $0.isEmpty ? nil : $0 }
        let needs = query["needs"] == "1"
        let page = Self.page(query)
        let size = Self.keywordPageSize
        let (rows, total, progress) = try await workspace.manifest.asyncRead { db in
            let (rows, total) = try ReviewQueries.keywords(sort: sort, category: category, needsReview: needs, limit: size, offset: page * size, in: db)
            return (rows, total, try ReviewQueries.progress(in: db))
        }
        return Self.html(ReviewPages.page(title: "keywords", progress: progress,
                                          body: ReviewPages.keywordList(rows: rows, total: total, sort: sort, category: category,
                                                                        needsReview: needs, page: page, pageSize: size)))
    }

    func keywordPage(_ query: [String: String],
                     body: @escaping @Sendable (ReviewQueries.KeywordRow, Int, Database) throws -> String) async throws -> Response {
        let text = query["k"] ?? ""
        let page = Self.page(query)
        let result = try await workspace.manifest.asyncRead { db -> (String, (Int, Int))? in
            guard let keyword = try ReviewQueries.keyword(text, in: db) else { return nil }
            return (try body(keyword, page, db), try ReviewQueries.progress(in: db))
        }
        guard let (html, progress) = result else { return Self.text("no keyword \"\(text)\"\n", status: .notFound) }
        return Self.html(ReviewPages.page(title: text, progress: progress, body: html))
    }

    func imagesPage(_ query: [String: String]) async throws -> Response {
        let unreviewed = query["unreviewed"] == "1"
        let size = Self.pageSize
        return try await keywordPage(query) { keyword, page, db in
            let rows = try ReviewQueries.images(of: keyword.id, onlyUnreviewed: unreviewed, limit: size, offset: page * size, in: db)
            return ReviewPages.images(keyword, rows: rows, page: page, pageSize: size, unreviewed: unreviewed)
        }
    }

    func descriptionsPage(_ query: [String: String]) async throws -> Response {
        let size = Self.pageSize
        return try await keywordPage(query) { keyword, page, db in
            ReviewPages.descriptions(keyword, rows: try ReviewQueries.descriptions(of: keyword.id, limit: size, offset: page * size, in: db),
                                     page: page, pageSize: size)
        }
    }

    func questionsPage(_ query: [String: String]) async throws -> Response {
        let size = Self.pageSize
        return try await keywordPage(query) { keyword, page, db in
            ReviewPages.questions(keyword, rows: try ReviewQueries.questions(of: keyword.id, limit: size, offset: page * size, in: db),
                                  page: page, pageSize: size)
        }
    }

    func nextUnreviewed() async throws -> Response {
        let next = try await workspace.manifest.asyncRead { db in try ReviewQueries.nextUnreviewed(in: db) }
        let location = next.map { "keyword?" + ReviewPages.query([("k", $0), ("unreviewed", "1")]) } ?? "./"
        return Response(status: .seeOther, headers: [.location: location])
    }

    // MARK: Responses

    static func html(_ text: String) -> Response { body(text, type: "text/html; charset=utf-8") }

    static func body(_ text: String, type: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func text(_ text: String, status: HTTPResponse.Status) -> Response { body(text, type: "text/plain; charset=utf-8", status: status) }
}

/// The bound port, set once the server runs (read by every request).
final class PortBox: @unchecked Sendable {
    // Written once by onServerRunning before any request can arrive; the lock orders it for readers.
    private let lock = NSLock()
    private var value: Int?
    var port: Int? { lock.lock(); defer { lock.unlock() }; return value }
    func set(_ port: Int) { lock.lock(); value = port; lock.unlock() }
}
