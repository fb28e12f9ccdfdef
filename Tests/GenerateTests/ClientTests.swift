import _DSBuildTestSupport
import Dataset
import Foundation
import Generate
import Testing

/// A fresh workspace and a client talking to `endpoint`, with fast backoff.
func makeClient(_ endpoint: FakeChatEndpoint, workspace: Workspace? = nil, maxReasks: Int = 2,
                apiKey: String? = "sk-test-SECRET-0123456789", limits: RequestPacer.Limits = .init(concurrency: 8)) throws -> (OpenAIClient, Workspace, TemporaryDirectory) {
    let directory = TemporaryDirectory("gen")
    let ws = try workspace ?? Workspace.create(at: directory.url)
    var configuration = OpenAIClientConfiguration(baseURL: URL(string: "http://127.0.0.1:9/v1")!, apiKey: apiKey)
    configuration.backoffBase = 0.01
    configuration.backoffMax = 0.05
    configuration.maxReasks = maxReasks
    configuration.limits = limits
    configuration.prices = ["fake-model": ModelPrice(inputPerMillion: 2.5, outputPerMillion: 10)]
    let client = OpenAIClient(configuration: configuration, transport: endpoint, cache: LLMCache(manifest: ws.manifest))
    return (client, ws, directory)
}

let answerSchema = #"{"type":"object","properties":{"answer":{"type":"string","minLength":1},"score":{"type":"integer"}},"required":["answer","score"],"additionalProperties":false}"#

func schemaRequest(_ text: String = "Q?", refresh: Bool = false) -> ChatRequest {
    ChatRequest(model: "fake-model", messages: [.user(text)], temperature: 0, maxTokens: 50, seed: 1,
                responseFormat: .jsonSchema(name: "answer", schema: answerSchema), purpose: "test", refresh: refresh)
}

@Suite struct ClientTests {
    @Test func requestBodyNestsSchemaWhereLlamaCppReadsItAndSendsImagesAsDataURLs() throws {
        let request = ChatRequest(model: "m", messages: [ChatMessage(role: .user, parts: [.text("What is it?"), .image(Data([1, 2, 3]), mimeType: "image/png")])],
                                  responseFormat: .jsonSchema(name: "answer", schema: answerSchema), purpose: "t")
        let body = ChatRequestBody.object(for: request, format: .jsonSchema, detail: "low")
        let format = try #require(body["response_format"] as? [String: Any])
        #expect(format["type"] as? String == "json_schema")
        let jsonSchema = try #require(format["json_schema"] as? [String: Any])
        #expect(jsonSchema["name"] as? String == "answer")
        #expect(jsonSchema["strict"] as? Bool == true)
        #expect((jsonSchema["schema"] as? [String: Any])?["type"] as? String == "object")
        let parts = try #require(((body["messages"] as? [[String: Any]])?.first?["content"]) as? [[String: Any]])
        let image = try #require(parts[1]["image_url"] as? [String: Any])
        #expect(image["url"] as? String == "data:image/png;base64,AQID")
        #expect(image["detail"] as? String == "low")
        // Same request, same bytes: the cache key is stable.
        #expect(ChatRequestBody.data(body) == ChatRequestBody.data(ChatRequestBody.object(for: request, format: .jsonSchema, detail: "low")))
    }

    @Test func cachedAnswerIsReusedWithoutARequestAndRefreshBypassesIt() async throws {
        let endpoint = FakeChatEndpoint { _ in .content(#"{"answer":"gat","score":3}"#) }
        let (client, ws, dir) = try makeClient(endpoint)
        _ = dir
        let first = try await client.complete(schemaRequest())
        #expect(first.fromCache == false)
        #expect(first.attempts == 1)
        let second = try await client.complete(schemaRequest())
        #expect(second.fromCache)
        #expect(second.text == first.text)
        #expect(second.requestKey == first.requestKey)
        #expect(endpoint.requestCount == 1)
        let hits = try ws.manifest.read { db in try Int.fetchOne(db, sql: "SELECT hits FROM llm_cache") }
        #expect(hits == 1)
        let refreshed = try await client.complete(schemaRequest(refresh: true))
        #expect(refreshed.fromCache == false)
        #expect(endpoint.requestCount == 2)
        #expect(client.ledger.totals.cacheHits == 1)
        #expect(client.ledger.totals.promptTokens == 200)
        #expect(abs((client.ledger.totals.cost ?? 0) - 2 * (100 * 2.5 + 20 * 10) / 1_000_000) < 1e-12)
    }

    @Test(arguments: [
        FakeChatEndpoint.Behaviour.rateLimited(headers: ["retry-after-ms": "20", "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "20ms"]),
        .rateLimited(headers: ["retry-after": "0"]),
        .error(status: 500, message: "The server had an error while processing your request."),
        .error(status: 503, message: "overloaded"),
        .error(status: 408, message: "timeout"),
        .llamaError(status: 503, message: "Loading model"),
        .dropConnection,
    ])
    func transientFailuresAreRetried(_ failure: FakeChatEndpoint.Behaviour) async throws {
        let endpoint = FakeChatEndpoint { _ in .content(#"{"answer":"a","score":1}"#) }
        endpoint.enqueue(failure, failure)
        let (client, _, dir) = try makeClient(endpoint)
        _ = dir
        let result = try await client.complete(schemaRequest())
        #expect(result.attempts == 3)
        #expect(endpoint.requestCount == 3)
        #expect(client.ledger.totals.retries == 2)
    }

    @Test func insufficientQuotaIsFatalAndNeverRetried() async throws {
        let endpoint = FakeChatEndpoint()
        endpoint.enqueue(.insufficientQuota)
        let (client, _, dir) = try makeClient(endpoint)
        _ = dir
        await #expect { try await client.complete(schemaRequest()) } throws: { error in
            let error = error as! ChatError
            return error.code == .insufficientQuota && error.isFatal && error.message.contains("quota")
        }
        #expect(endpoint.requestCount == 1)
    }

    @Test func badRequestAndAuthenticationAreNotRetried() async throws {
        let endpoint = FakeChatEndpoint()
        endpoint.enqueue(.error(status: 404, message: "The model `nope` does not exist", code: "model_not_found"),
                         .error(status: 401, message: "Incorrect API key provided", code: "invalid_api_key"))
        let (client, _, dir) = try makeClient(endpoint)
        _ = dir
        await #expect { try await client.complete(schemaRequest("a")) } throws: { ($0 as! ChatError).code == .badRequest }
        await #expect { try await client.complete(schemaRequest("b")) } throws: { ($0 as! ChatError).isFatal }
        #expect(endpoint.requestCount == 2)
    }

    @Test func persistentServerErrorsGiveUpAfterMaxAttempts() async throws {
        let endpoint = FakeChatEndpoint { _ in .error(status: 502, message: "bad gateway") }
        let (client, ws, dir) = try makeClient(endpoint)
        _ = dir
        await #expect { try await client.complete(schemaRequest()) } throws: { ($0 as! ChatError).code == .unavailable }
        #expect(endpoint.requestCount == client.configuration.maxAttempts)
        let cached = try ws.manifest.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM llm_cache") }
        #expect(cached == 0)
    }

    @Test func rejectedJSONSchemaFallsBackToJSONObject() async throws {
        let endpoint = FakeChatEndpoint(schemaSupport: .rejectsJSONSchema) { _ in .content(#"{"answer":"x","score":2}"#) }
        let (client, _, dir) = try makeClient(endpoint)
        _ = dir
        let result = try await client.complete(schemaRequest())
        #expect(result.jsonObject?["answer"] as? String == "x")
        #expect(client.currentWireFormat == .jsonObject)
        let last = try #require(endpoint.bodies.last)
        #expect((last["response_format"] as? [String: Any])?["type"] as? String == "json_object")
        // The schema went into the prompt instead.
        #expect(((last["messages"] as? [[String: Any]])?.first?["content"] as? String)?.contains("JSON Schema") == true)
        // The next request starts at json_object: no second refusal.
        _ = try await client.complete(schemaRequest("again"))
        #expect(endpoint.requestCount == 3)
    }

    @Test func noResponseFormatAtAllFallsBackToTextAndExtractsTheFirstObject() async throws {
        let endpoint = FakeChatEndpoint(schemaSupport: .rejectsAll) { _ in
            .content("Sure! Here it is:\n```json\n{\"answer\": \"a {brace} in text\", \"score\": 5}\n```\nAnything else?")
        }
        let (client, _, dir) = try makeClient(endpoint)
        _ = dir
        let result = try await client.complete(schemaRequest())
        #expect(client.currentWireFormat == .text)
        #expect(result.jsonObject?["answer"] as? String == "a {brace} in text")
        #expect(endpoint.bodies.last?["response_format"] == nil)
    }

    @Test func ignoredSchemaWithInvalidOutputIsReaskedWithTheErrorFedBack() async throws {
        let endpoint = FakeChatEndpoint(schemaSupport: .ignored) { _ in .content(#"{"answer":"fixed","score":1}"#) }
        endpoint.enqueue(.content(#"{"answer":"x","score":"high","extra":1}"#))
        let (client, ws, dir) = try makeClient(endpoint)
        _ = dir
        let result = try await client.complete(schemaRequest())
        #expect(result.jsonObject?["answer"] as? String == "fixed")
        #expect(result.attempts == 2)
        let second = endpoint.bodies[1]
        #expect(FakeChatEndpoint.lastUserText(second).contains("rejected"))
        #expect(FakeChatEndpoint.lastUserText(second).contains("extra"))
        // Both raw answers are cached: a rerun replays the conversation without a request.
        let again = try await client.complete(schemaRequest())
        #expect(again.fromCache)
        #expect(endpoint.requestCount == 2)
        let rows = try ws.manifest.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM llm_cache") }
        #expect(rows == 2)
    }

    @Test func outputThatNeverValidatesFailsAfterBoundedReasks() async throws {
        let endpoint = FakeChatEndpoint { _ in .content("I think the answer is gat.") }
        let (client, _, dir) = try makeClient(endpoint, maxReasks: 2)
        _ = dir
        await #expect { try await client.complete(schemaRequest()) } throws: { error in
            (error as! ChatError).code == .invalidOutput
        }
        #expect(endpoint.requestCount == 3)
    }

    /// A malformed 200 is the endpoint failing, not an answer (issue 15, case 4): it is retried and never cached.
    /// (This test used to pin the old behaviour, where the malformed body ended the request at once.)
    @Test func malformedBodyIsRetriedNeverCachedAndRefusalIsReported() async throws {
        let endpoint = FakeChatEndpoint { _ in .content(#"{"answer": "gat", "score": 1}"#) }
        endpoint.enqueue(.malformedBody)
        let (client, ws, dir) = try makeClient(endpoint)
        _ = dir
        let result = try await client.complete(schemaRequest("m"))
        #expect(result.text == #"{"answer": "gat", "score": 1}"#)
        #expect(endpoint.requestCount == 2 && result.attempts == 2)
        let cached = try ws.manifest.read { db in try String.fetchAll(db, sql: "SELECT response FROM llm_cache") }
        #expect(cached.count == 1 && cached.allSatisfy { $0.contains("choices") })

        let always = FakeChatEndpoint { _ in .malformedBody }
        let (failing, failingWorkspace, failingDir) = try makeClient(always)
        _ = failingDir
        await #expect { try await failing.complete(schemaRequest("m")) } throws: { ($0 as! ChatError).code == .unavailable }
        #expect(always.requestCount == 6, "every attempt asked the endpoint")
        #expect(try failingWorkspace.manifest.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM llm_cache") } == 0)

        endpoint.enqueue(.refusal("I'm sorry, I can't help with that."))
        await #expect { try await client.complete(schemaRequest("r")) } throws: { ($0 as! ChatError).code == .refusal }
    }

    @Test func customValidatorTriggersReask() async throws {
        let endpoint = FakeChatEndpoint { body in
            FakeChatEndpoint.lastUserText(body).contains("rejected") ? .content("long enough text") : .content("short")
        }
        let (client, _, dir) = try makeClient(endpoint)
        _ = dir
        let request = ChatRequest(model: "fake-model", messages: [.user("Describe")], purpose: "t",
                                  validator: { $0.count < 10 ? "too short (\($0.count) characters)" : nil })
        let result = try await client.complete(request)
        #expect(result.text == "long enough text")
    }

    @Test func slowResponsesAreAwaited() async throws {
        let endpoint = FakeChatEndpoint { _ in .slow(seconds: 0.05, then: .content("fine")) }
        let (client, _, dir) = try makeClient(endpoint)
        _ = dir
        let result = try await client.complete(ChatRequest(model: "fake-model", messages: [.user("x")], purpose: "t"))
        #expect(result.text == "fine")
    }

    @Test func apiKeyIsSentButNeverStored() async throws {
        let key = "sk-test-SECRET-0123456789"
        let endpoint = FakeChatEndpoint { _ in .content(#"{"answer":"a","score":1}"#) }
        endpoint.enqueue(.error(status: 401, message: "bad key"))
        let (client, ws, dir) = try makeClient(endpoint, apiKey: key)
        _ = dir
        _ = try? await client.complete(schemaRequest("x"))
        _ = try await client.complete(schemaRequest("y"))
        #expect(endpoint.authorizationHeaders.allSatisfy { $0 == "Bearer \(key)" })
        try ws.manifest.checkpoint()
        for name in try FileManager.default.contentsOfDirectory(atPath: ws.root.path) {
            let bytes = (try? Data(contentsOf: ws.root.appendingPathComponent(name))) ?? Data()
            #expect(bytes.range(of: Data(key.utf8)) == nil, "\(name) contains the API key")
        }
    }

    @Test func cancellationStopsWaitingRequests() async throws {
        let endpoint = FakeChatEndpoint { _ in .slow(seconds: 5, then: .content("late")) }
        let (client, _, dir) = try makeClient(endpoint)
        _ = dir
        let task = Task { try await client.complete(ChatRequest(model: "fake-model", messages: [.user("x")], purpose: "t")) }
        try await Task.sleep(for: .milliseconds(50))
        let started = Date()
        task.cancel()
        let result = await task.result
        #expect(Date().timeIntervalSince(started) < 4)   // the reply would take 5 s
        if case .failure(let error) = result { #expect((error as? ChatError)?.code == .cancelled) } else { Issue.record("not cancelled") }
    }
}

@Suite struct ClientPartsTests {
    @Test(arguments: [("6m0s", 360.0), ("12ms", 0.012), ("1.5s", 1.5), ("1h2m3s", 3723.0), ("20", 20.0), ("0s", 0.0)])
    func rateLimitDurationsParse(_ text: String, _ seconds: Double) {
        #expect(abs((RateLimitHeaders.duration(text) ?? -1) - seconds) < 1e-9)
    }

    @Test func retryAfterPrefersMilliseconds() {
        #expect(RateLimitHeaders.retryAfter(["retry-after-ms": "250", "retry-after": "3"]) == 0.25)
        #expect(RateLimitHeaders.retryAfter(["retry-after": "3"]) == 3)
        #expect(RateLimitHeaders.retryAfter([:]) == nil)
        #expect(RateLimitHeaders.duration("soon") == nil)
    }

    @Test func firstJSONObjectIsExtractedFromProse() {
        #expect(JSONExtraction.firstObject(in: #"no {json here} but {"a": "}{", "b": [1, {"c": 2}]} tail {"d":1}"#) == #"{"a": "}{", "b": [1, {"c": 2}]}"#)
        #expect(JSONExtraction.firstObject(in: "nothing") == nil)
        #expect(JSONExtraction.firstObject(in: #"{"cut": "#) == nil)
    }

    @Test(arguments: [
        (#"{"answer":"a","score":1}"#, nil as String?),
        (#"{"answer":"","score":1}"#, "at least 1"),
        (#"{"answer":"a"}"#, "score"),
        (#"{"answer":"a","score":1.5}"#, "integer"),
        (#"{"answer":"a","score":true}"#, "integer"),
        (#"{"answer":"a","score":1,"x":0}"#, "\"x\""),
        (#"[1]"#, "object"),
        ("not json", "not valid JSON"),
    ])
    func schemaValidatorFindsTheFirstProblem(_ text: String, _ expected: String?) {
        let problem = JSONSchemaValidator(schema: answerSchema).validate(text: text)
        if let expected { #expect(problem?.contains(expected) == true, "\(problem ?? "nil")") } else { #expect(problem == nil) }
    }

    @Test func schemaValidatorChecksEnumsAndArrays() {
        let schema = #"{"type":"object","properties":{"aspect":{"enum":["visual","ecological"]},"d":{"type":"array","items":{"type":"string","maxLength":3},"minItems":3,"maxItems":3}},"required":["aspect","d"]}"#
        let validator = JSONSchemaValidator(schema: schema)
        #expect(validator.validate(text: #"{"aspect":"visual","d":["a","b","c"]}"#) == nil)
        #expect(validator.validate(text: #"{"aspect":"taste","d":["a","b","c"]}"#)?.contains("one of") == true)
        #expect(validator.validate(text: #"{"aspect":"visual","d":["a","b","c","d"]}"#)?.contains("at most 3 items") == true)
        #expect(validator.validate(text: #"{"aspect":"visual","d":["a","b","long"]}"#)?.contains("$.d[2]") == true)
    }

    @Test func pacerAdoptsAdvertisedLimitsAndPausesOnExhaustedWindow() async throws {
        let pacer = RequestPacer(limits: .init(concurrency: 4, requestsPerMinute: 6000))
        await pacer.observe(headers: ["x-ratelimit-limit-requests": "600", "x-ratelimit-limit-tokens": "1000000"])
        let limits = await pacer.currentLimits
        #expect(limits.requestsPerMinute == 600)
        #expect(limits.tokensPerMinute == 1_000_000)
        await pacer.observe(headers: ["x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "150ms"])
        let started = ContinuousClock.now
        try await pacer.acquire(estimatedTokens: 10)
        await pacer.release(actualTokens: 10, estimatedTokens: 10)
        #expect(ContinuousClock.now - started >= .milliseconds(140))
    }
}
