import _DSBuildTestSupport
import Dataset
import Foundation
import Generate
import Logging
import Testing

/// `LocalServer`: the llama.cpp process dsbuild starts and stops — its failures (one line naming the model and the
/// log), its group stopped on every path, and, with the real server, the model name and cache keys that do not
/// depend on the port it got.
@Suite(.serialized) struct LocalServerTests {
    /// A stand-in "server": a shell script, so start failures can be produced at will.
    func fakeServer(_ dir: TemporaryDirectory, _ script: String) -> LocalServerConfiguration {
        let executable = dir.path("llama-server")
        FileManager.default.createFile(atPath: executable.path, contents: Data("#!/bin/sh\n\(script)\n".utf8),
                                       attributes: [.posixPermissions: 0o755])
        let model = dir.path("tiny.gguf")
        FileManager.default.createFile(atPath: model.path, contents: Data("GGUF".utf8))
        return LocalServerConfiguration(binary: LocalServerBinary(executable: executable, origin: "test"), model: model,
                                        logFile: dir.path("logs/llama-server.log"), startupSeconds: 2)
    }

    @Test func serverThatExitsIsOneLineNamingTheModelAndTheLog() async throws {
        let dir = TemporaryDirectory("local-fail")
        let configuration = fakeServer(dir, "echo 'error: cannot load model' >&2; exit 3")
        do {
            _ = try await LocalServer.start(configuration, logger: Logger(label: "t"))
            Issue.record("a server that exits was reported started")
        } catch let error as LocalServerError {
            #expect(error.code == .startFailed)
            #expect(error.description.contains(configuration.model.path) && error.description.contains(configuration.logFile.path))
            #expect(error.description.contains("status 3") && !error.description.contains("\n"))
            #expect(error.description.contains("cannot load model"), "the log's last meaningful line is quoted: \(error)")
        }
        let log = try String(contentsOf: configuration.logFile, encoding: .utf8)
        #expect(log.contains("cannot load model"), "the server's stderr goes to the log")
    }

    @Test func serverThatNeverAnswersIsStoppedWithItsWholeGroup() async throws {
        let dir = TemporaryDirectory("local-hang")
        // The "server" starts a child of its own and never listens: both must be gone after the timeout.
        let configuration = fakeServer(dir, "sleep 300 & echo $! > \(dir.path("child").path); echo $$ > \(dir.path("pid").path); wait")
        await #expect(throws: LocalServerError.self) { _ = try await LocalServer.start(configuration, logger: Logger(label: "t")) }
        let pid = try #require(Int32(String(contentsOf: dir.path("pid"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let child = try #require(Int32(String(contentsOf: dir.path("child"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(LlamaVenv.waitGone(pid, seconds: 3) && LlamaVenv.waitGone(child, seconds: 3))
    }

    @Test(.enabled(if: LlamaVenv.available, Comment(rawValue: LlamaVenv.unavailableReason ?? "")))
    func realServerReportsItsAliasAndCacheKeysSurviveARestartOnAnotherPort() async throws {
        let dir = TemporaryDirectory("local-real")
        let workspace = try Workspace.create(at: dir.path("ws"))
        let binary = try #require(LlamaVenv.url.flatMap(LocalServerBinary.inVenv))
        let model = URL(fileURLWithPath: try #require(LlamaVenv.modelPath))
        let configuration = LocalServerConfiguration(binary: LocalServerBinary(executable: binary, origin: "test"), model: model,
                                                     context: 1024, parallel: 1, logFile: dir.path("logs/server.log"))
        let request = ChatRequest(model: configuration.alias, messages: [.user("Say hi.")], temperature: 0, maxTokens: 8, seed: 1, purpose: "t")

        let first = try await LocalServer.start(configuration, logger: Logger(label: "t"))
        #expect(first.modelName == configuration.alias && !first.acceptsImages)
        let firstClient = OpenAIClient(configuration: OpenAIClientConfiguration(baseURL: first.baseURL, apiKey: nil),
                                       cache: LLMCache(manifest: workspace.manifest))
        let answered = try await firstClient.complete(request)
        #expect(!answered.fromCache && firstClient.ledger.totals.requests == 1)
        first.stop()
        #expect(!first.isRunning && LlamaVenv.waitGone(first.pid, seconds: 3))

        let second = try await LocalServer.start(configuration, logger: Logger(label: "t"))
        defer { second.stop() }
        #expect(second.port != first.port || second.pid != first.pid)
        let secondClient = OpenAIClient(configuration: OpenAIClientConfiguration(baseURL: second.baseURL, apiKey: nil),
                                        cache: LLMCache(manifest: workspace.manifest))
        let replayed = try await secondClient.complete(request)
        #expect(replayed.fromCache && replayed.text == answered.text, "the same body on another port is the same cache key")
        #expect(secondClient.ledger.totals.requests == 0)
    }
}
