import Dataset
import Foundation
import Synchronization

/// A loopback fake of the OpenAI Files and Batches API in the real shapes — `POST /v1/files` (multipart),
/// `GET /v1/files/{id}/content`, `POST /v1/batches`, `GET /v1/batches[/{id}]`, `POST /v1/batches/{id}/cancel` — and
/// of online `POST /v1/chat/completions`, both answered by one `FakeChatEndpoint`, so a test can tell which path
/// each request took: `online` and `batched` count requests per `custom_id` (the sha256 of the body).
///
/// A batch walks `validating → in_progress → finalizing → completed`, one step per poll, then ends as its `Fate`
/// says (`failed`, `expired`, partial errors, never finishing until cancelled). Output lines come in shuffled order.
public final class FakeBatchAPI: Sendable {
    /// How a created batch ends (taken in order from `fates`, then `.complete`).
    public enum Fate: Sendable, Equatable {
        case complete
        /// `failed` at validation: no output, `errors.data` names the cause.
        case fail
        /// `expired` after answering the first `completing` lines; the rest are `batch_expired` in the error file.
        case expire(completing: Int)
        /// Every `every`-th line is an error line (`server_error`, status 500) in the error file.
        case partialErrors(every: Int)
        /// Stays `in_progress` until cancelled.
        case stall
    }

    struct Batch {
        var id: String
        var inputFileID: String
        var status: String
        var steps: Int = 0
        var fate: Fate
        var lines: [(key: String, body: Data)]
        var metadata: [String: String]
        var outputFileID: String?
        var errorFileID: String?
        var completed = 0
        var failed = 0
        var errors: [ValidationError] = []
        var createdAt: Int
        var polls404 = 0
    }

    struct ValidationError: Sendable {
        var code: String
        var message: String
        var line: Int?
        var json: [String: Any] { ["code": code, "message": message, "line": line ?? NSNull() as Any, "param": NSNull()] }
    }

    struct State {
        var files: [String: Data] = [:]
        var batches: [String: Batch] = [:]
        var order: [String] = []
        var fates: [Fate] = []
        var online: [String: Int] = [:]
        var batched: [String: Int] = [:]
        var polls = 0
        var uploads = 0
        var creates = 0
        var cancels = 0
        var authorizations: Set<String> = []
        var counter = 0
        var hostile = Hostile()
        var lists = 0
    }

    /// Hostile behaviours of a real endpoint (the adversarial report on the batch path), off by default.
    public struct Hostile: Sendable {
        /// The first `poll404` polls of each batch answer 404 (a replica that does not know it yet).
        public var poll404 = 0
        /// Every batch's polls answer 404 (the endpoint forgot it), until turned off.
        public var forget = false
        /// `GET /files/{id}/content` of an output or error file answers 404.
        public var resultFiles404 = false
        /// `POST /batches` answers 400 "invalid file" this many more times.
        public var refuseCreate = 0
        /// `POST /batches/{id}/cancel` answers 400 "cannot cancel a completed batch" — the batch finished meanwhile.
        public var cancelFinishes = false
        /// `GET /batches` pages hold this many batches at most (`has_more`, `after` honoured).
        public var listPageSize = 100
        public init() {}
    }

    /// Changes the hostile behaviours.
    public func hostile(_ change: (inout Hostile) -> Void) { state.withLock { change(&$0.hostile) } }

    /// Adds `count` finished batches of other uploads (another tool on the same key), newer than every batch so far.
    public func addForeignBatches(_ count: Int) {
        state.withLock { s in
            for _ in 0..<count {
                s.counter += 1
                let batch = Batch(id: "batch_\(s.counter)", inputFileID: "file-foreign-\(s.counter)", status: "completed", fate: .complete,
                                  lines: [], metadata: [:], createdAt: Int(Date().timeIntervalSince1970))
                s.batches[batch.id] = batch
                s.order.append(batch.id)
            }
        }
    }

    /// `GET /batches` requests answered.
    public var lists: Int { state.withLock { $0.lists } }

    public let chat: FakeChatEndpoint
    private let state = Mutex(State())
    /// Seconds `POST /v1/batches` waits before answering (the batch exists already): a kill lands between the
    /// create and its recording.
    private let createDelay = Mutex<Double>(0)
    /// When set, a request without `Authorization: Bearer <key>` gets a 401 (`invalid_api_key`), as OpenAI answers.
    private let requiredKey = Mutex<String?>(nil)

    public init(chat: FakeChatEndpoint) {
        self.chat = chat
    }

    /// Serves the API at `http://127.0.0.1:PORT/v1/…` (base URL: `server.url("/v1")`).
    public func serve() throws -> LoopbackHTTPServer {
        try LoopbackHTTPServer { [self] request in self.handle(request) }
    }

    /// Fates of the next batches created, in order.
    public func script(_ fates: Fate...) { state.withLock { $0.fates.append(contentsOf: fates) } }
    public func delayCreate(seconds: Double) { createDelay.withLock { $0 = seconds } }
    public func require(key: String?) { requiredKey.withLock { $0 = key } }

    /// Online requests per custom_id (body sha256).
    public var online: [String: Int] { state.withLock { $0.online } }
    /// Times each custom_id was answered in a batch's output file (success lines only).
    public var batched: [String: Int] { state.withLock { $0.batched } }
    public var polls: Int { state.withLock { $0.polls } }
    public var uploads: Int { state.withLock { $0.uploads } }
    public var creates: Int { state.withLock { $0.creates } }
    public var cancels: Int { state.withLock { $0.cancels } }
    public var batchStatuses: [String: String] { state.withLock { s in s.batches.mapValues(\.status) } }
    /// Request lines per created batch, in creation order.
    public var batchSizes: [Int] { state.withLock { s in s.order.compactMap { s.batches[$0]?.lines.count } } }
    /// The custom_ids of each created batch, in creation order.
    public var batchKeys: [[String]] { state.withLock { s in s.order.compactMap { s.batches[$0]?.lines.map(\.key) } } }
    public var authorizations: Set<String> { state.withLock { $0.authorizations } }

    // MARK: - Routing

    private func handle(_ request: LoopbackRequest) -> LoopbackResponse {
        state.withLock { _ = $0.authorizations.insert(request.header("Authorization") ?? "") }
        if let key = requiredKey.withLock({ $0 }), request.header("Authorization") != "Bearer \(key)" {
            return LoopbackResponse(status: 401, headers: [("Content-Type", "application/json")], body: Data("""
                {"error":{"message":"Incorrect API key provided.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}
                """.utf8))
        }
        let path = request.path
        switch (request.method, path) {
        case ("POST", "/v1/chat/completions"):
            state.withLock { $0.online[ContentHash.sha256Hex(request.body), default: 0] += 1 }
            let reply = chat.reply(body: request.body, authorization: request.header("Authorization"))
            guard let response = reply.response else { return .fault(.resetBeforeResponse) }
            return LoopbackResponse.status(response.status, headers: response.headers.map { (name: $0.key, value: $0.value) },
                                           body: String(decoding: response.body, as: UTF8.self))
        case ("POST", "/v1/files"):
            return upload(request)
        case ("POST", "/v1/batches"):
            return create(request)
        case ("GET", "/v1/batches"):
            var limit = 20
            var after: String?
            for pair in (request.query ?? "").split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
                if kv.count == 2 && kv[0] == "limit" { limit = Int(kv[1]) ?? 20 }
                if kv.count == 2 && kv[0] == "after" { after = kv[1] }
            }
            let (data, more): ([[String: Any]], Bool) = state.withLock { s in
                s.lists += 1
                var ids = Array(s.order.reversed())
                if let after, let index = ids.firstIndex(of: after) { ids = Array(ids[(index + 1)...]) }
                let size = min(limit, s.hostile.listPageSize)
                return (ids.prefix(size).compactMap { s.batches[$0].map(Self.object) }, ids.count > size)
            }
            return Self.json(["object": "list", "data": data, "has_more": more, "first_id": data.first?["id"] ?? NSNull(),
                              "last_id": data.last?["id"] ?? NSNull()])
        default:
            break
        }
        let parts = path.split(separator: "/").map(String.init)
        if request.method == "GET", parts.count == 4, parts[1] == "files", parts[3] == "content" {
            let hidden = state.withLock { s in
                s.hostile.resultFiles404 && s.batches.values.contains { $0.outputFileID == parts[2] || $0.errorFileID == parts[2] }
            }
            guard !hidden, let data = state.withLock({ $0.files[parts[2]] }) else { return Self.error(404, "No such File object: \(parts[2])") }
            return .ok(data, contentType: "application/jsonl")
        }
        if request.method == "GET", parts.count == 3, parts[1] == "batches" { return poll(parts[2]) }
        if request.method == "POST", parts.count == 4, parts[1] == "batches", parts[3] == "cancel" { return cancel(parts[2]) }
        return Self.error(404, "Invalid URL (\(request.method) \(path))")
    }

    private func upload(_ request: LoopbackRequest) -> LoopbackResponse {
        guard let type = request.header("Content-Type"), let range = type.range(of: "boundary=") else {
            return Self.error(400, "expected multipart/form-data")
        }
        let boundary = Data("--\(type[range.upperBound...])".utf8)
        var fields: [String: Data] = [:]
        var filename = "upload.jsonl"
        var rest = request.body[...]
        while let start = rest.range(of: boundary) {
            rest = rest[start.upperBound...]
            guard let end = rest.range(of: boundary) else { break }
            let part = rest[..<end.lowerBound]
            guard let split = part.range(of: Data("\r\n\r\n".utf8)) else { continue }
            let head = String(decoding: part[..<split.lowerBound], as: UTF8.self)
            var value = Data(part[split.upperBound...])
            if value.suffix(2) == Data("\r\n".utf8) { value.removeLast(2) }
            guard let nameRange = head.range(of: "name=\"") else { continue }
            let name = String(head[nameRange.upperBound...].prefix { $0 != "\"" })
            if let fileRange = head.range(of: "filename=\"") { filename = String(head[fileRange.upperBound...].prefix { $0 != "\"" }) }
            fields[name] = value
        }
        guard fields["purpose"].map({ String(decoding: $0, as: UTF8.self) }) == "batch" else { return Self.error(400, "purpose must be batch") }
        guard let file = fields["file"] else { return Self.error(400, "no file field") }
        let id: String = state.withLock { s in
            s.counter += 1
            s.uploads += 1
            let id = "file-\(s.counter)"
            s.files[id] = file
            return id
        }
        return Self.json(["id": id, "object": "file", "bytes": file.count, "created_at": Int(Date().timeIntervalSince1970),
                          "filename": filename, "purpose": "batch"])
    }

    private func create(_ request: LoopbackRequest) -> LoopbackResponse {
        guard let object = try? JSONSerialization.jsonObject(with: request.body) as? [String: Any],
              let fileID = object["input_file_id"] as? String else { return Self.error(400, "input_file_id is required") }
        guard object["completion_window"] as? String == "24h" else { return Self.error(400, "completion_window must be 24h") }
        guard object["endpoint"] as? String == "/v1/chat/completions" else { return Self.error(400, "unsupported endpoint") }
        guard let file = state.withLock({ $0.files[fileID] }) else { return Self.error(404, "No such File object: \(fileID)") }
        let refused = state.withLock { s in
            guard s.hostile.refuseCreate > 0 else { return false }
            s.hostile.refuseCreate -= 1
            return true
        }
        if refused { return Self.error(400, "invalid file: the input file \(fileID) could not be parsed") }
        var lines: [(String, Data)] = []
        var problems: [ValidationError] = []
        var models = Set<String>()
        for (n, line) in file.split(separator: 0x0A).enumerated() {
            guard let entry = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                  let key = entry["custom_id"] as? String, entry["method"] as? String == "POST",
                  entry["url"] as? String == "/v1/chat/completions", let body = entry["body"] as? [String: Any] else {
                problems.append(ValidationError(code: "invalid_request", message: "line is not a valid batch request", line: n + 1))
                continue
            }
            models.insert(body["model"] as? String ?? "")
            // The body's exact bytes, as the line holds them: `{"body":` … `,"custom_id":`.
            let raw = Data(line)
            let start = raw.range(of: Data(#"{"body":"#.utf8))!.upperBound
            let end = raw.range(of: Data(#","custom_id":"#.utf8), options: .backwards)!.lowerBound
            lines.append((key, Data(raw[start..<end])))
        }
        if models.count > 1 { problems.append(ValidationError(code: "mixed_models", message: "a batch may use one model only")) }
        let delay = createDelay.withLock { $0 }
        let batch: Batch = state.withLock { s in
            s.counter += 1
            s.creates += 1
            let fate = s.fates.isEmpty ? Fate.complete : s.fates.removeFirst()
            var batch = Batch(id: "batch_\(s.counter)", inputFileID: fileID, status: "validating", fate: fate, lines: lines,
                              metadata: (object["metadata"] as? [String: Any] ?? [:]).compactMapValues { $0 as? String },
                              createdAt: Int(Date().timeIntervalSince1970))
            if !problems.isEmpty || fate == .fail {
                batch.errors = problems.isEmpty ? [ValidationError(code: "invalid_request", message: "scripted validation failure", line: 1)] : problems
            }
            s.batches[batch.id] = batch
            s.order.append(batch.id)
            return batch
        }
        var response = Self.json(Self.object(batch))
        if delay > 0 { response.delayBeforeHeaders = .milliseconds(Int(delay * 1000)) }
        return response
    }

    private func poll(_ id: String) -> LoopbackResponse {
        let batch: Batch? = state.withLock { s in
            s.polls += 1
            guard var batch = s.batches[id] else { return nil }
            if s.hostile.forget { return nil }
            if batch.polls404 < s.hostile.poll404 {
                batch.polls404 += 1
                s.batches[id] = batch
                return nil
            }
            if !BatchObjectStatus.terminal.contains(batch.status) { advance(&batch, in: &s) }
            s.batches[id] = batch
            return batch
        }
        guard let batch else { return Self.error(404, "No such Batch: \(id)") }
        return Self.json(Self.object(batch))
    }

    private func cancel(_ id: String) -> LoopbackResponse {
        let finished = state.withLock { s in
            guard s.hostile.cancelFinishes, var batch = s.batches[id] else { return false }
            s.cancels += 1
            if !BatchObjectStatus.terminal.contains(batch.status) { finish(&batch, in: &s) }
            s.batches[id] = batch
            return true
        }
        if finished { return Self.error(400, "Cannot cancel a batch with status completed.") }
        let batch: Batch? = state.withLock { s in
            s.cancels += 1
            guard var batch = s.batches[id] else { return nil }
            if !BatchObjectStatus.terminal.contains(batch.status) { batch.status = "cancelling" }
            s.batches[id] = batch
            return batch
        }
        guard let batch else { return Self.error(404, "No such Batch: \(id)") }
        return Self.json(Self.object(batch))
    }

    /// One step of a batch's life at a poll.
    private func advance(_ batch: inout Batch, in s: inout State) {
        if batch.status == "cancelling" {
            batch.status = "cancelled"
            return
        }
        if batch.status == "validating" && !batch.errors.isEmpty {
            batch.status = "failed"
            return
        }
        switch batch.status {
        case "validating": batch.status = "in_progress"
        case "in_progress":
            if batch.fate == .stall { return }
            batch.status = "finalizing"
        case "finalizing": finish(&batch, in: &s)
        default: break
        }
    }

    private func finish(_ batch: inout Batch, in s: inout State) {
        var output: [Data] = []
        var errors: [Data] = []
        var expired = false
        for (n, line) in batch.lines.enumerated() {
            if case .expire(let completing) = batch.fate, n >= completing {
                expired = true
                errors.append(Self.line(["id": "batch_req_\(batch.id)_\(n)", "custom_id": line.key, "response": NSNull(),
                                         "error": ["code": "batch_expired", "message": "This request could not be executed before the completion window expired."]]))
                continue
            }
            if case .partialErrors(let every) = batch.fate, (n + 1) % every == 0 {
                errors.append(Self.line(["id": "batch_req_\(batch.id)_\(n)", "custom_id": line.key,
                                         "response": ["status_code": 500, "request_id": "req_\(n)",
                                                      "body": ["error": ["message": "The server had an error", "type": "server_error"]]],
                                         "error": ["code": "server_error", "message": "The server had an error while processing the request"]]))
                continue
            }
            let reply = chat.reply(body: line.body, authorization: nil)
            let status = reply.response?.status ?? 500
            let body = reply.response.flatMap { try? JSONSerialization.jsonObject(with: $0.body) } ?? ["error": ["message": "dropped"]]
            let entry = Self.line(["id": "batch_req_\(batch.id)_\(n)", "custom_id": line.key,
                                   "response": ["status_code": status, "request_id": "req_\(n)", "body": body],
                                   "error": status == 200 ? NSNull() : ["code": "http_\(status)", "message": "request failed"] as Any])
            if status == 200 {
                output.append(entry)
                s.batched[line.key, default: 0] += 1
            } else {
                errors.append(entry)
            }
        }
        // Output order is not request order.
        var generator = SeededGenerator(seed: UInt64(batch.lines.count) &* 2654435761 &+ 17)
        output.shuffle(using: &generator)
        batch.completed = output.count
        batch.failed = errors.count
        if !output.isEmpty {
            s.counter += 1
            batch.outputFileID = "file-\(s.counter)"
            s.files[batch.outputFileID!] = output.reduce(Data(), +)
        }
        if !errors.isEmpty {
            s.counter += 1
            batch.errorFileID = "file-\(s.counter)"
            s.files[batch.errorFileID!] = errors.reduce(Data(), +)
        }
        batch.status = expired ? "expired" : "completed"
    }

    // MARK: - Shapes

    private static func object(_ batch: Batch) -> [String: Any] {
        let now = Int(Date().timeIntervalSince1970)
        return [
            "id": batch.id, "object": "batch", "endpoint": "/v1/chat/completions",
            "errors": batch.errors.isEmpty ? NSNull() : ["object": "list", "data": batch.errors.map(\.json)] as Any,
            "input_file_id": batch.inputFileID, "completion_window": "24h", "status": batch.status,
            "output_file_id": batch.outputFileID ?? NSNull(), "error_file_id": batch.errorFileID ?? NSNull(),
            "created_at": batch.createdAt, "in_progress_at": NSNull(), "expires_at": batch.createdAt + 86400,
            "finalizing_at": NSNull(), "completed_at": batch.status == "completed" ? now : NSNull() as Any,
            "failed_at": batch.status == "failed" ? now : NSNull() as Any, "expired_at": batch.status == "expired" ? now : NSNull() as Any,
            "cancelling_at": NSNull(), "cancelled_at": batch.status == "cancelled" ? now : NSNull() as Any,
            "request_counts": ["total": batch.lines.count, "completed": batch.completed, "failed": batch.failed],
            "metadata": batch.metadata,
        ]
    }

    private static func line(_ object: [String: Any]) -> Data {
        var data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        data.append(0x0A)
        return data
    }

    private static func json(_ object: [String: Any]) -> LoopbackResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return LoopbackResponse(status: 200, headers: [("Content-Type", "application/json")], body: data)
    }

    private static func error(_ status: Int, _ message: String) -> LoopbackResponse {
        LoopbackResponse(status: status, headers: [("Content-Type", "application/json")], body: Data("""
            {"error":{"message":"\(message)","type":"invalid_request_error","param":null,"code":null}}
            """.utf8))
    }
}

enum BatchObjectStatus {
    static let terminal: Set<String> = ["completed", "failed", "expired", "cancelled"]
}
