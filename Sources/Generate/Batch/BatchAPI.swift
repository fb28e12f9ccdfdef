import Dataset
import Foundation

/// The OpenAI Files and Batches endpoints under the configured API root: upload an input file, create, retrieve,
/// list and cancel batches, download a file's content. Connection errors, 408/409/429 and 5xx are retried with
/// backoff; a refused key (401/403) and exhausted quota are thrown as the fatal `ChatError`s the online client
/// throws; any other refusal is a `BatchError(.api)` naming the call.
public struct BatchAPI: Sendable {
    public let baseURL: URL
    private let apiKey: String?
    private let http: any BatchHTTP
    public var timeout: TimeInterval = 300
    public var maxAttempts = 5
    public var backoffBase = 0.5

    public init(configuration: OpenAIClientConfiguration, http: (any BatchHTTP)? = nil) {
        baseURL = configuration.baseURL
        apiKey = configuration.apiKey
        self.http = http ?? HTTPBatchTransport()
        timeout = max(configuration.timeout, 60)
        maxAttempts = max(configuration.maxAttempts, 1)
        backoffBase = configuration.backoffBase
    }

    /// `POST {base}/files` (multipart, `purpose=batch`); returns the file id.
    public func uploadFile(_ data: Data, filename: String) async throws -> String {
        let boundary = "dsbuild-\(UUID().uuidString)"
        var body = Data()
        body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n".utf8))
        body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(filename)\"\r\nContent-Type: application/jsonl\r\n\r\n".utf8))
        body.append(data)
        body.append(Data("\r\n--\(boundary)--\r\n".utf8))
        let object = try await call("POST", "files", body: body, contentType: "multipart/form-data; boundary=\(boundary)",
                                    what: "uploading the batch input \(filename)")
        guard let id = (object as? [String: Any])?["id"] as? String else {
            throw BatchError(.api, "uploading the batch input \(filename): the reply has no file id")
        }
        return id
    }

    /// `POST {base}/batches` with `completion_window: 24h`.
    public func createBatch(inputFileID: String, metadata: [String: String]) async throws -> BatchObject {
        let request: [String: Any] = ["input_file_id": inputFileID, "endpoint": BatchInputFile.endpoint,
                                      "completion_window": "24h", "metadata": metadata]
        let body = try JSONSerialization.data(withJSONObject: request, options: [.sortedKeys, .withoutEscapingSlashes])
        return try batch(try await call("POST", "batches", body: body, what: "creating a batch of file \(inputFileID)"),
                         what: "creating a batch of file \(inputFileID)")
    }

    /// `GET {base}/batches/{id}`.
    public func retrieve(_ id: String) async throws -> BatchObject {
        try batch(try await call("GET", "batches/\(id)", what: "polling batch \(id)"), what: "polling batch \(id)")
    }

    /// `POST {base}/batches/{id}/cancel`.
    public func cancel(_ id: String) async throws -> BatchObject {
        try batch(try await call("POST", "batches/\(id)/cancel", body: Data("{}".utf8), what: "cancelling batch \(id)"),
                  what: "cancelling batch \(id)")
    }

    /// `GET {base}/batches?limit=N[&after=ID]`: one page of batches, most recent first, and whether more follow.
    public func listPage(limit: Int = 100, after: String? = nil) async throws -> (batches: [BatchObject], hasMore: Bool) {
        let query = "limit=\(limit)" + (after.map { "&after=\($0.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed) ?? $0)" } ?? "")
        let object = try await call("GET", "batches", query: query, what: "listing batches")
        let dictionary = object as? [String: Any]
        let batches = (dictionary?["data"] as? [Any] ?? []).compactMap { BatchObject(json: $0) }
        return (batches, dictionary?["has_more"] as? Bool ?? false)
    }

    /// The first batch `matching`, paging through `GET /batches` (most recent first) until one matches, the pages end,
    /// or the batches are older than `notBefore` (a Unix time: ours cannot be older than the upload it was made of).
    /// At most `maxPages` pages are read.
    public func find(notBefore: Double? = nil, maxPages: Int = 50, _ matching: (BatchObject) -> Bool) async throws -> BatchObject? {
        var after: String?
        var seen = Set<String>()
        for _ in 0..<maxPages {
            let page = try await listPage(after: after)
            if let found = page.batches.first(where: matching) { return found }
            // An endpoint that ignores `after` answers the same page again: nothing more to learn from it.
            guard page.hasMore, let last = page.batches.last, !seen.contains(last.id) else { return nil }
            seen.formUnion(page.batches.map(\.id))
            if let notBefore, let created = last.createdAt, created < notBefore { return nil }
            after = last.id
        }
        return nil
    }

    /// `GET {base}/batches?limit=N`: the most recent batches.
    public func list(limit: Int = 100) async throws -> [BatchObject] {
        try await listPage(limit: limit).batches
    }

    /// `GET {base}/files/{id}/content`: the raw bytes (JSONL).
    public func fileContent(_ id: String) async throws -> Data {
        try await exchange("GET", "files/\(id)/content", what: "downloading file \(id)")
    }

    // MARK: - HTTP

    private func batch(_ object: Any, what: String) throws -> BatchObject {
        guard let batch = BatchObject(json: object) else { throw BatchError(.api, "\(what): the reply is not a batch object") }
        return batch
    }

    private func call(_ method: String, _ path: String, query: String? = nil, body: Data? = nil,
                      contentType: String = "application/json", what: String) async throws -> Any {
        let data = try await exchange(method, path, query: query, body: body, contentType: contentType, what: what)
        guard let object = try? JSONSerialization.jsonObject(with: data) else {
            throw BatchError(.api, "\(what): the reply is not JSON: \(String(decoding: data.prefix(160), as: UTF8.self))")
        }
        return object
    }

    private func exchange(_ method: String, _ path: String, query: String? = nil, body: Data? = nil,
                          contentType: String = "application/json", what: String) async throws -> Data {
        let url = endpoint(path, query: query)
        var headers = [("Accept", "application/json")]
        if body != nil { headers.append(("Content-Type", contentType)) }
        if let apiKey { headers.append(("Authorization", "Bearer \(apiKey)")) }
        var last = "no attempt made"
        for attempt in 1...maxAttempts {
            try Task.checkCancellation()
            var wait: Double?
            do {
                let response = try await http.send(method: method, url: url, headers: headers, body: body, timeout: timeout)
                if (200..<300).contains(response.status) { return response.body }
                let error = APIError(response.body)
                last = "HTTP \(response.status) from \(url.host ?? "the endpoint"): \(error.message)"
                if error.code == "insufficient_quota" || error.type == "insufficient_quota" {
                    throw ChatError(.insufficientQuota, "\(what): \(last) — add credit or use another key; retrying cannot help",
                                    status: response.status)
                }
                switch response.status {
                case 401, 403:
                    throw ChatError(.authentication, "\(what): \(last) — check the API key variable", status: response.status)
                case 408, 409, 429, 500...:
                    wait = RateLimitHeaders.retryAfter(response.headers)
                case 404:
                    throw BatchError(.notFound, "\(what): \(last)", status: 404)
                default:
                    throw BatchError(.api, "\(what): \(last)", status: response.status)
                }
            } catch let error as ChatTransportError {
                if error.code == .cancelled { throw CancellationError() }
                last = "\(url.host ?? "the endpoint"): \(error.detail)"
            }
            guard attempt < maxAttempts else { break }
            let delay = min(wait ?? backoffBase * pow(2, Double(attempt - 1)), 60)
            try await Task.sleep(for: .seconds(delay))
        }
        throw BatchError(.api, "\(what): gave up after \(maxAttempts) attempts: \(last)")
    }

    /// `<base>/<path>`, the base's own query (`?api-version=…`) kept and `query` added.
    func endpoint(_ path: String, query: String? = nil) -> URL {
        guard var components = URLComponents(url: baseURL, resolvingAgainstBaseURL: false) else {
            return baseURL.appendingPathComponent(path)
        }
        let base = components.percentEncodedPath
        components.percentEncodedPath = (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/" + path
        if let query {
            components.percentEncodedQuery = [components.percentEncodedQuery, query].compactMap { $0 }.joined(separator: "&")
        }
        return components.url ?? baseURL.appendingPathComponent(path)
    }
}
