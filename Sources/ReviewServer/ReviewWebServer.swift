import Dataset
import Foundation
import GRDB
import Hummingbird
import Logging

import Review

/// `dsbuild review`'s web app: Hummingbird 2 on 127.0.0.1 (a free port unless one is given), every request checked
/// by `ReviewAccess` before it is routed. Pages read the manifest (WAL readers never wait for a writer, nor take
/// the workspace lock); each POST takes the workspace lock for its write, or answers 409 "workspace busy".
public struct ReviewWebServer: Sendable {
    public let workspace: Workspace
    public let reviewer: String
    public let port: Int
    public let token: String
    public let logger: Logger
    static let pageSize = 60
    static let keywordPageSize = 100

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
                ready(URL(string: "http://127.0.0.1:\(port)/?token=\(self.token)")!)
            },
            logger: serverLogger)
        try await app.run()
    }

    // MARK: Routing

    func respond(to request: Request, access: ReviewAccess) async -> Response {
        let started = ContinuousClock.now
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        let queryToken = query["token"]
        let host = request.head.authority
        let isPost = request.method == .post
        if let refusal = access.refusal(queryToken: queryToken, cookie: request.headers[.cookie], host: host,
                                        origin: request.headers[.origin], changesState: isPost) {
            return Self.text("forbidden: \(refusal)\n", status: .forbidden)
        }
        do {
            var response: Response
            switch (request.method, request.uri.path) {
            case (.post, "/action"):
                let body = try await request.body.collect(upTo: 1 << 20)
                response = await ReviewActions(workspace: workspace, reviewer: reviewer).handle(form: String(buffer: body))
            case (.post, _):
                response = Self.text("not found\n", status: .notFound)
            case (_, "/"): response = try await keywordsPage(query)
            case (_, "/keyword"): response = try await imagesPage(query)
            case (_, "/descriptions"): response = try await descriptionsPage(query)
            case (_, "/questions"): response = try await questionsPage(query)
            case (_, "/next"): response = try await nextUnreviewed()
            case (_, "/app.js"):
                response = Self.body(ReviewScript.source, type: "text/javascript; charset=utf-8")
            case (_, "/api/keywords"):
                let q = query["q"] ?? ""
                let names = try await workspace.manifest.asyncRead { db in try ReviewQueries.keywordTexts(matching: q, limit: 20, in: db) }
                response = Self.body(JSONText.encodeObject(names), type: "application/json")
            case (_, let path) where path.hasPrefix("/thumb/") || path.hasPrefix("/image/"):
                let thumb = path.hasPrefix("/thumb/")
                let sha = String(path.dropFirst(7))
                guard let data = try await ReviewImages(workspace: workspace).jpeg(sha256: sha, side: thumb ? ReviewImages.thumbnailSide : ReviewImages.fullSide) else {
                    return Self.text("no such image\n", status: .notFound)
                }
                response = Response(status: .ok, headers: [.contentType: "image/jpeg", .cacheControl: "private, max-age=86400"],
                                    body: .init(byteBuffer: ByteBuffer(bytes: data)))
            default:
                response = Self.text("not found\n", status: .notFound)
            }
            if access.matches(queryToken) {
                // The token moves into a cookie the pages' links and script carry; it never needs to be in a URL again.
                response.headers[.setCookie] = "\(ReviewAccess.cookieName)=\(token); Path=/; HttpOnly; SameSite=Strict"
            }
            response.headers[.cacheControl] = response.headers[.cacheControl] ?? "no-store"
            response.headers[.init("X-Content-Type-Options")!] = "nosniff"
            response.headers[.init("Referrer-Policy")!] = "no-referrer"
            // The server's own time for the request (bench/review reads it).
            let elapsed = ContinuousClock.now - started
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            response.headers[.init("Server-Timing")!] = "app;dur=\(String(format: "%.2f", ms))"
            return response
        } catch {
            logger.error("review: \(request.uri.path): \(error)")
            return Self.text("error: \(error)\n", status: .internalServerError)
        }
    }

    // MARK: Pages

    func keywordsPage(_ query: [String: String]) async throws -> Response {
        let sort = query["sort"].flatMap { ReviewQueries.Sort(rawValue: $0) } ?? .keyword
        let category = query["category"].flatMap { $0.isEmpty ? nil : $0 }
        let needs = query["needs"] == "1"
        let page = max(0, query["page"].flatMap { Int($0) } ?? 0)
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
        let page = max(0, query["page"].flatMap { Int($0) } ?? 0)
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
        let location = next.map { "/keyword?" + ReviewPages.query([("k", $0), ("unreviewed", "1")]) } ?? "/"
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
