import Dataset
import Foundation
import GRDB
import Testing
@testable import Generate
import _DSBuildTestSupport

/// The Batch API path's parts: the input-file writer and splitter, the client's batch mode, the merge of output and
/// error files, and the driver's state machine against the loopback fake (`FakeBatchAPI`).
@Suite struct BatchTests {
    static func request(_ n: Int, model: String = "m", padding: Int = 0) -> QueuedRequest {
        let body = ChatRequestBody.data(["model": model, "messages": [["role": "user", "content": "q\(n)" + String(repeating: "x", count: padding)]]])
        return QueuedRequest(key: LLMCache.key(for: body), model: model, purpose: "test", body: body)
    }

    @Test func aLineCarriesTheOnlineBodyByteForByteUnderItsCacheKey() throws {
        let chat = ChatRequest(model: "gpt-x", messages: [.system("s"), .user("Describe a \"kimchi\" / jar")], temperature: 0.3,
                               maxTokens: 50, seed: 4, responseFormat: .jsonSchema(name: "d", schema: #"{"type":"object"}"#), purpose: "describe")
        let body = ChatRequestBody.data(ChatRequestBody.object(for: chat, format: .jsonSchema, detail: "auto"))
        let queued = QueuedRequest(key: LLMCache.key(for: body), model: "gpt-x", purpose: "describe", body: body)
        let line = BatchInputFile.line(for: queued)
        #expect(line.last == 0x0A)
        let object = try #require(try JSONSerialization.jsonObject(with: line) as? [String: Any])
        #expect(object["custom_id"] as? String == ContentHash.sha256Hex(body))
        #expect(object["method"] as? String == "POST" && object["url"] as? String == "/v1/chat/completions")
        // The body's bytes inside the line are exactly the online body's (so the merged answer has the online key).
        let start = try #require(line.range(of: Data(#"{"body":"#.utf8))).upperBound
        #expect(line[start..<(start + body.count)] == body)
    }

    @Test func splitsByModelCountAndBytesAndWritesEachKeyOnce() throws {
        let requests = (0..<7).map { Self.request($0) } + [Self.request(0)] + (0..<3).map { Self.request($0, model: "other") }
        let byCount = try BatchInputFile.split(requests, maxRequests: 3, maxBytes: 1 << 20)
        #expect(byCount.map(\.model) == ["m", "m", "m", "other"])
        #expect(byCount.map(\.keys.count) == [3, 3, 1, 3])
        #expect(Set(byCount.flatMap(\.keys)).count == 10, "the duplicate request is written once")
        let lineSize = BatchInputFile.line(for: Self.request(0)).count
        let byBytes = try BatchInputFile.split(Array(requests.prefix(7)), maxRequests: 100, maxBytes: lineSize * 2 + 1)
        #expect(byBytes.map(\.keys.count) == [2, 2, 2, 1])
        #expect(byBytes.allSatisfy { $0.data.count <= lineSize * 2 + 1 })
        #expect(byBytes.map { $0.data.split(separator: 0x0A).count } == [2, 2, 2, 1])
        #expect(throws: BatchError.self) { try BatchInputFile.split([Self.request(1, padding: 500)], maxRequests: 10, maxBytes: 200) }
    }

    @Test func mergeReadsShuffledOutputErrorLinesAndTheBatchesFate() throws {
        let keys = ["a", "b", "c", "d"]
        let completion = #"{"choices":[{"finish_reason":"stop","index":0,"message":{"content":"hi","role":"assistant"}}],"model":"m","usage":{"completion_tokens":3,"prompt_tokens":11}}"#
        let output = Data("""
            {"custom_id":"c","error":null,"id":"r3","response":{"body":\(completion),"request_id":"x","status_code":200}}
            {"custom_id":"zzz","error":null,"id":"r9","response":{"body":\(completion),"request_id":"x","status_code":200}}
            {"custom_id":"a","error":null,"id":"r1","response":{"body":\(completion),"request_id":"x","status_code":200}}

            """.utf8)
        let errors = Data("""
            {"custom_id":"b","error":{"code":"batch_expired","message":"window passed"},"id":"r2","response":null}

            """.utf8)
        var batch = try #require(BatchObject(json: ["id": "batch_1", "status": "expired"]))
        let outcomes = BatchResults.outcomes(keys: keys, output: output, errors: errors, batch: batch)
        #expect(outcomes.count == 4, "only the batch's own requests: \(outcomes.keys.sorted())")
        #expect(outcomes["a"]?.state == .succeeded && outcomes["c"]?.state == .succeeded)
        #expect(outcomes["a"]?.usage == ChatUsage(promptTokens: 11, completionTokens: 3))
        #expect(OpenAIClient.completionProblem(Data(try #require(outcomes["a"]?.response).utf8)) == nil)
        #expect(outcomes["b"]?.state == .expired)
        #expect(outcomes["d"]?.state == .expired, "a request in neither file takes the expired batch's fate")
        batch.status = "failed"
        let failed = BatchResults.outcomes(keys: keys, output: nil, errors: nil, batch: batch)
        #expect(failed.values.allSatisfy { $0.state == .failed })
        let serverError = BatchResults.outcome(of: ["custom_id": "a", "response": ["status_code": 500, "body": ["error": ["message": "boom"]]],
                                                     "error": ["code": "server_error", "message": "boom"]])
        #expect(serverError.state == .failed && serverError.error?.contains("server_error") == true)
    }

    @Test func aResultLineOverTheReplyLimitFailsItsRequestAndTheFirstSuccessLineWins() throws {
        let completion = { (text: String) in #"{"choices":[{"finish_reason":"stop","index":0,"message":{"content":"\#(text)","role":"assistant"}}],"usage":{"completion_tokens":3,"prompt_tokens":11}}"# }
        let output = Data("""
            {"custom_id":"a","error":null,"id":"r1","response":{"body":\(completion("first")),"request_id":"x","status_code":200}}
            {"custom_id":"a","error":null,"id":"r2","response":{"body":\(completion("second")),"request_id":"x","status_code":200}}
            {"custom_id":"b","error":null,"id":"r3","response":{"body":\(completion(String(repeating: "x", count: 400))),"request_id":"x","status_code":200}}

            """.utf8)
        let batch = try #require(BatchObject(json: ["id": "batch_1", "status": "completed"]))
        let outcomes = BatchResults.outcomes(keys: ["a", "b"], output: output, errors: nil, batch: batch, maxLineBytes: 300)
        #expect(outcomes["a"]?.response?.contains("first") == true, "the first success line in file order is kept")
        #expect(outcomes["b"]?.state == .failed && outcomes["b"]?.error?.contains("llm.max_reply_bytes") == true)
    }

    @Test func aClientInBatchModeQueuesCacheMissesAndNeverSends() async throws {
        let endpoint = FakeChatEndpoint { _ in .content("online answer") }
        let (_, workspace, directory) = try makeClient(endpoint)
        _ = directory
        let queue = BatchQueue()
        var configuration = OpenAIClientConfiguration(baseURL: URL(string: "http://127.0.0.1:9/v1")!, apiKey: "sk-x")
        configuration.maxReasks = 0
        let cache = LLMCache(manifest: workspace.manifest)
        let client = OpenAIClient(configuration: configuration, transport: endpoint, cache: cache, batchQueue: queue)
        let request = ChatRequest(model: "m", messages: [.user("hello")], purpose: "test")
        await #expect(throws: ChatError.self) { _ = try await client.complete(request) }
        do { _ = try await client.complete(request) } catch { #expect(error.code == .deferred && !error.isFatal) }
        #expect(endpoint.requestCount == 0, "nothing is sent online in batch mode")
        let queued = queue.drain()
        #expect(queued.count == 1, "the same request is queued once")
        let online = ChatRequestBody.data(ChatRequestBody.object(for: request, format: .text, detail: "auto"))
        #expect(queued.first?.body == online && queued.first?.key == LLMCache.key(for: online))
        // Once the batch's answer is in the cache under that key, the same request is answered from it.
        try await cache.store(key: queued[0].key, model: "m", purpose: "test", response: #"{"choices":[{"message":{"role":"assistant","content":"batched"},"finish_reason":"stop"}]}"#, usage: ChatUsage())
        let result = try await client.complete(request)
        #expect(result.text == "batched" && result.fromCache && endpoint.requestCount == 0 && queue.count == 0)
    }
}

/// The driver's state machine against the loopback Batch API fake, in process: resubmission limits, rounds,
/// adoption of a batch whose creation was never recorded, `--refresh` in batch mode.
@Suite(.serialized) struct BatchDriverTests {
    struct Setup {
        let fake: FakeBatchAPI
        let server: LoopbackHTTPServer
        let workspace: Workspace
        let directory = TemporaryDirectory("batch-driver")
        let queue = BatchQueue()
        let client: OpenAIClient
        let driver: BatchDriver

        init(maxAttempts: Int = 3, maxRounds: Int = 6, maxReasks: Int = 2,
             responder: @escaping @Sendable ([String: Any]) -> FakeChatEndpoint.Behaviour = { _ in .content("batched answer") }) throws {
            fake = FakeBatchAPI(chat: FakeChatEndpoint(responder: responder))
            server = try fake.serve()
            workspace = try Workspace.create(at: directory.url)
            var configuration = OpenAIClientConfiguration(baseURL: server.url("/v1"), apiKey: "sk-driver-0123456789")
            configuration.maxReasks = maxReasks
            client = OpenAIClient(configuration: configuration, cache: LLMCache(manifest: workspace.manifest), batchQueue: queue)
            driver = BatchDriver(api: BatchAPI(configuration: configuration), store: BatchStore(manifest: workspace.manifest), queue: queue,
                                 settings: BatchSettings(pollSeconds: 0.01, pollMaxSeconds: 0.02, maxRounds: maxRounds, maxAttempts: maxAttempts),
                                 logger: .init(label: "test"))
        }

        /// Asks `request` as a stage item would: the text, or the error's code.
        func ask(_ request: ChatRequest) async -> String {
            do { return try await client.complete(request).text } catch { return error.code.rawValue }
        }
    }

    @Test func aRequestItsBatchesFailEveryTimeFailsItsItemAfterTheAttempts() async throws {
        let s = try Setup(maxAttempts: 2)
        defer { s.server.stop() }
        s.fake.script(.fail, .fail, .fail, .fail)
        let request = ChatRequest(model: "m", messages: [.user("q")], purpose: "test")
        let (result, report) = try await s.driver.run { await s.ask(request) }
        #expect(result == ChatError.Code.unavailable.rawValue, "the item fails with the batch's error instead of waiting forever")
        #expect(s.fake.creates == 2 && report.failed == 2 && report.left == 0)
    }

    @Test func roundsRunOutAndTheRequestsLeftAreCounted() async throws {
        // A validator that rejects every answer: each re-ask is a new request, so a new round.
        let s = try Setup(maxRounds: 2, maxReasks: 10)
        defer { s.server.stop() }
        let request = ChatRequest(model: "m", messages: [.user("q")], purpose: "test", validator: { _ in "never good enough" })
        let (result, report) = try await s.driver.run { await s.ask(request) }
        #expect(result == ChatError.Code.deferred.rawValue)
        #expect(report.passes == 3 && report.batches == 2 && report.left == 1)
        #expect(s.fake.batchKeys.flatMap { $0 }.count == Set(s.fake.batchKeys.flatMap { $0 }).count)
    }

    @Test func aBatchCreatedButNeverRecordedIsAdoptedNotCreatedAgain() async throws {
        let s = try Setup()
        defer { s.server.stop() }
        let request = ChatRequest(model: "m", messages: [.user("q")], purpose: "test")
        _ = await s.ask(request)
        let file = try #require(try BatchInputFile.split(s.queue.drain(), maxRequests: 10, maxBytes: 1 << 20).first)
        // What a process killed right after `POST /batches` left: the row is `uploaded`, the batch exists.
        let row = try await s.driver.store.stage(file, purposes: [:])
        let fileID = try await s.driver.api.uploadFile(file.data, filename: "x.jsonl")
        try await s.driver.store.setUploaded(row, fileID: fileID)
        _ = try await s.driver.api.createBatch(inputFileID: fileID, metadata: [:])
        let (result, report) = try await s.driver.run { await s.ask(request) }
        #expect(result == "batched answer")
        #expect(s.fake.creates == 1 && report.resumed == 1 && report.batches == 0 && report.passes == 1)
    }

    @Test func refreshInBatchModeAsksOnceAndTakesTheBatchesAnswer() async throws {
        let s = try Setup()
        defer { s.server.stop() }
        var request = ChatRequest(model: "m", messages: [.user("q")], purpose: "test")
        let body = ChatRequestBody.data(ChatRequestBody.object(for: request, format: .text, detail: "auto"))
        try await LLMCache(manifest: s.workspace.manifest).store(key: LLMCache.key(for: body), model: "m", purpose: "test",
            response: #"{"choices":[{"message":{"role":"assistant","content":"old answer"},"finish_reason":"stop"}]}"#, usage: ChatUsage())
        request.refresh = true
        let (result, report) = try await s.driver.run { await s.ask(request) }
        #expect(result == "batched answer" && s.fake.creates == 1 && report.passes == 2)
    }

    @Test func aMergedAnswerHasTheRegisteredSecretsMasked() throws {
        SecretRedactor.register(secret: "sk-echoed-in-a-reply-987654321")
        let outcome = BatchResults.outcome(of: ["custom_id": "a", "response": ["status_code": 200, "body": [
            "choices": [["message": ["role": "assistant", "content": "the key is sk-echoed-in-a-reply-987654321"], "finish_reason": "stop"]]]]])
        #expect(outcome.state == .succeeded)
        #expect(outcome.response?.contains("sk-echoed-in-a-reply-987654321") == false)
    }
}

extension BatchDriverTests {
    @Test func aBatchTheEndpointDoesNotKnowIsMarkedLostAndItsRequestsArePendingAgain() async throws {
        let s = try Setup()
        defer { s.server.stop() }
        let request = ChatRequest(model: "m", messages: [.user("q")], purpose: "test")
        _ = await s.ask(request)
        let file = try #require(try BatchInputFile.split(s.queue.drain(), maxRequests: 10, maxBytes: 1 << 20).first)
        let row = try await s.driver.store.stage(file, purposes: [:])
        try await s.driver.store.update(row, with: try #require(BatchObject(json: ["id": "batch_gone", "status": "in_progress"])), polled: false)
        let (result, report) = try await s.driver.run { await s.ask(request) }
        #expect(result == "batched answer", "submitted again in a new batch and answered")
        #expect(report.batches == 1 && s.fake.creates == 1)
        let lost = try await s.driver.store.all().first { $0.0.id == row }
        #expect(lost?.0.status == "lost" && lost?.1["failed"] == 1, "a lost batch's requests count as an attempt")
        #expect(s.fake.cancels >= 1, "a lost batch is cancelled in case it still runs")
    }

    @Test func aFewPolls404DoNotLoseABatch() async throws {
        let s = try Setup()
        defer { s.server.stop() }
        s.fake.hostile { $0.poll404 = 2 }
        let request = ChatRequest(model: "m", messages: [.user("q")], purpose: "test")
        let (result, report) = try await s.driver.run { await s.ask(request) }
        #expect(result == "batched answer" && s.fake.creates == 1 && report.failed == 0)
    }

    @Test func aMergeNeverOverwritesAnAnswerStoredAfterTheBatchWasStaged() async throws {
        let s = try Setup()
        defer { s.server.stop() }
        let request = ChatRequest(model: "m", messages: [.user("q")], purpose: "test")
        _ = await s.ask(request)
        let file = try #require(try BatchInputFile.split(s.queue.drain(), maxRequests: 10, maxBytes: 1 << 20).first)
        let row = try await s.driver.store.stage(file, purposes: [:])
        let first = #"{"choices":[{"message":{"role":"assistant","content":"online first"},"finish_reason":"stop"}]}"#
        let cache = LLMCache(manifest: s.workspace.manifest)
        try await cache.store(key: file.keys[0], model: "m", purpose: "test", response: first, usage: ChatUsage())
        try await s.driver.store.merge(row, model: "m", outcomes: [file.keys[0]: .init(state: .succeeded, response: #"{"choices":[{"message":{"role":"assistant","content":"batch later"},"finish_reason":"stop"}]}"#)])
        #expect(try await cache.lookup(file.keys[0])?.response == first, "the first answer wins")
    }

    @Test func exhaustionHoldsForTheCommandAndAFailedBatchCountsOnlyItsNamedLines() async throws {
        let s = try Setup(maxAttempts: 1)
        defer { s.server.stop() }
        s.fake.script(.fail)
        let requests = (0..<2).map { ChatRequest(model: "m", messages: [.user("q\($0)")], purpose: "test") }
        let (results, _) = try await s.driver.run { [requests] in [await s.ask(requests[0]), await s.ask(requests[1])] }
        // The scripted failure names line 1: that request used its one attempt, the other was resubmitted and answered.
        #expect(results.filter { $0 == "batched answer" }.count == 1 && results.contains(ChatError.Code.unavailable.rawValue), "\(results)")
        // A new command tries the exhausted request again.
        let (again, _) = try await s.driver.run { [requests] in [await s.ask(requests[0]), await s.ask(requests[1])] }
        #expect(again == ["batched answer", "batched answer"])
    }

    @Test func expiredRequestsCountAgainstTheAttempts() async throws {
        let s = try Setup(maxAttempts: 2)
        defer { s.server.stop() }
        s.fake.script(.expire(completing: 0), .expire(completing: 0), .expire(completing: 0))
        let request = ChatRequest(model: "m", messages: [.user("q")], purpose: "test")
        let (result, report) = try await s.driver.run { await s.ask(request) }
        #expect(result == ChatError.Code.unavailable.rawValue && s.fake.creates == 2 && report.expired == 2)
    }

    @Test func aBatchReplyWithoutUsageIsStoredAtTheRequestsWorstCase() async throws {
        let s = try Setup(responder: { _ in .raw(status: 200, contentType: "application/json", body: #"{"choices":[{"index":0,"message":{"role":"assistant","content":"no usage"},"finish_reason":"stop"}],"usage":{"prompt_tokens":-3,"completion_tokens":"x"}}"#) })
        defer { s.server.stop() }
        let request = ChatRequest(model: "m", messages: [.user("q")], maxTokens: 77, purpose: "test")
        let (result, _) = try await s.driver.run { await s.ask(request) }
        #expect(result == "no usage")
        let rows = try s.workspace.manifest.read { db in
            try Row.fetchAll(db, sql: "SELECT prompt_tokens, completion_tokens, estimated_prompt_tokens FROM llm_cache")
        }
        #expect(rows.count == 1 && (rows[0][0] as Int) > 0 && (rows[0][1] as Int) == 77 && (rows[0][2] as Int?) == nil,
                "the worst case, and no calibration from it: \(rows)")
    }
}
