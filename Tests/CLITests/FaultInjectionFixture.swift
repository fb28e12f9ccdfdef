import Dataset
import Foundation
import _DSBuildTestSupport

/// The fault-injection suite's world: a loopback Commons whose files answer with `ImageFault`s (and whose search
/// API answers 503 and 429 first for some keywords), a chat endpoint answering with `ChatFault`s, the recipe,
/// canary secrets in the environment, and what the suite reads back from a workspace.
extension FaultInjectionTests {
    /// The servers, the recipe and the fault each file gets.
    final class Fixture {
        let tmp = TemporaryDirectory("dsbuild-faults")
        let commons: FakeCommonsAPI
        /// Where `redirectToOtherPort` points: a port the run does not allow, so it must get no request at all.
        let elsewhere: LoopbackHTTPServer
        let responder: FaultyChatResponder
        let chatServer: LoopbackHTTPServer
        /// Requests per file, faults served per kind, search-API requests per query.
        let imageAttempts: AttemptLedger
        let imageFaultsServed: AttemptLedger
        let apiAttempts: AttemptLedger
        /// File name → the fault it is served with.
        let faults: [String: ImageFault]
        let recipe: URL
        let cli: CommandRunner

        init() throws {
            let items = try KViscuitFixture.type1Items().filter {
                let url = TestPaths.kViscuitImages.appendingPathComponent($0.imagePath)
                let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? nil
                return (20_000...1_500_000).contains(size ?? 0)
            }
            var seenKeywords = Set<String>()
            var seenFiles = Set<String>()
            let unique = items.filter { seenKeywords.insert($0.keyword).inserted && seenFiles.insert($0.imagePath).inserted }
            let chosen = Array(unique.prefix(10))
            var files: [String: [URL]] = [:]
            for (i, item) in chosen.enumerated() {
                files[item.keyword] = [item.imagePath, unique[i + 20].imagePath].map(TestPaths.kViscuitImages.appendingPathComponent)
            }
            let names = files.values.flatMap { $0.map(\.lastPathComponent) }.sorted()
            var faults: [String: ImageFault] = [:]
            for (i, name) in names.enumerated() { faults[name] = ImageFault.allCases[i % ImageFault.allCases.count] }
            self.faults = faults
            let faultTable = faults

            elsewhere = try LoopbackHTTPServer { _ in .text("private") }
            let otherPort = elsewhere.port
            let (imageAttempts, imageFaultsServed, apiAttempts) = (AttemptLedger(), AttemptLedger(), AttemptLedger())
            (self.imageAttempts, self.imageFaultsServed, self.apiAttempts) = (imageAttempts, imageFaultsServed, apiAttempts)
            let firstKeywords = Set(chosen.prefix(3).map(\.keyword))
            commons = try FakeCommonsAPI(files: files, apiFault: { request in
                // The search API itself: 503 then 429 for the first pages of three keywords.
                let query = URLComponents(string: "http://x/?" + (request.query ?? ""))?.queryItems ?? []
                let search = (query.first { $0.name == "gsrsearch" }?.value ?? "").replacingOccurrences(of: " filetype:bitmap", with: "")
                guard firstKeywords.contains(search) else { return nil }
                switch apiAttempts.next(request.query ?? "") {
                case 1: imageFaultsServed.next("api_503"); return .status(503, body: "try later")
                case 2: imageFaultsServed.next("api_429"); return .status(429, headers: [("Retry-After", "1")], body: "slow down")
                default: return nil
                }
            }, imageReply: { request, name, data, type in
                let fault = faultTable[name] ?? .none
                let attempt = imageAttempts.next(name)
                if fault.failingAttempts.map({ attempt <= $0 }) ?? true, fault != .none, fault != .slowBody {
                    imageFaultsServed.next(fault.rawValue)
                }
                return fault.response(attempt: attempt, path: request.path, data: data, contentType: type,
                                      otherPort: otherPort, maxBytes: FaultInjectionTests.maxBytes)
            })

            responder = FaultyChatResponder(echoing: FaultInjectionTests.openAIKey, base: PipelineChatResponder.respond)
            let chat = FakeChatEndpoint(latency: 0.05, responder: responder.respond)
            chatServer = try chat.serve()

            var csv = "keyword,category\n"
            for item in chosen { csv += "\"\(item.keyword.replacingOccurrences(of: "\"", with: "\"\""))\",\(item.category.lowercased())\n" }
            try csv.write(to: tmp.path("keywords.csv"), atomically: true, encoding: .utf8)
            recipe = tmp.path("recipe.yaml")
            try """
                name: faults
                keywords: keywords.csv
                contact: https://example.org/dsbuild-tests
                llm:
                  model: fake-model
                  concurrency: \(FaultInjectionTests.concurrency)
                collect:
                  per_keyword: 2
                  licenses: [cc0, cc-by, cc-by-sa]
                  concurrency: 4
                  max_bytes: \(FaultInjectionTests.maxBytes)
                  max_attempts: 4
                  retry_base_seconds: 0.2
                  retry_max_seconds: 2
                  allow_hosts: ["127.0.0.1:\(commons.server.port)"]
                  sources:
                    commons:
                      base_url: \(commons.baseURL)
                      thumbnail_width: 1280
                filter:
                  min_short_side: 100
                  aspect_ratio: [0.3, 3.0]
                describe:
                  aspects: [visual]
                  modes: [text-only, image-grounded]
                  languages: [en]
                  concurrency: \(FaultInjectionTests.concurrency)
                mcq:
                  types: [1, 2]
                  test_fraction: 0.25
                  seed: 7
                  concurrency: \(FaultInjectionTests.concurrency)
                shards:
                  out: shards
                  shard_size: 8
                """.write(to: recipe, atomically: true, encoding: .utf8)
            let base = chatServer.url("/v1").absoluteString
                .replacingOccurrences(of: "http://", with: "http://\(FaultInjectionTests.baseUser):\(FaultInjectionTests.basePassword)@")
            cli = CommandRunner(environment: ["OPENAI_BASE_URL": base, "OPENAI_API_KEY": FaultInjectionTests.openAIKey,
                                              "FLICKR_API_KEY": FaultInjectionTests.flickrKey])
        }

        func workspace(_ name: String) -> URL { tmp.path(name) }

        /// Starts a new series: every fault is served again from its first attempt.
        func resetFaults() {
            imageAttempts.reset()
            apiAttempts.reset()
            responder.reset()
        }

        func stop() {
            commons.stop()
            elsewhere.stop()
            chatServer.stop()
        }
    }

    /// file name → (status, reason) of its download.
    static func downloads(_ workspace: URL) throws -> [String: (status: String, reason: String)] {
        var out: [String: (String, String)] = [:]
        for row in try Hardening.rows(workspace, "SELECT c.image_url, d.status, COALESCE(d.reason, '') FROM downloads d JOIN candidates c ON c.id = d.candidate_id") {
            let name = (URL(string: row[0])?.lastPathComponent ?? row[0]).removingPercentEncoding ?? row[0]
            out[name] = (row[1], row[2])
        }
        return out
    }

    /// The keys whose count grew from `before` to `after`.
    static func increase(from before: [String: Int], to after: [String: Int]) -> Set<String> {
        Set(after.filter { $0.value > before[$0.key, default: 0] }.keys)
    }

    /// Every file of a workspace (relative path → size), the manifest's own files and the lock left out.
    static func files(_ workspace: URL) throws -> [String: Int] {
        var out: [String: Int] = [:]
        let enumerator = FileManager.default.enumerator(at: workspace, includingPropertiesForKeys: [.isRegularFileKey, .fileSizeKey])
        while let url = enumerator?.nextObject() as? URL {
            let values = try url.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey])
            guard values.isRegularFile == true else { continue }
            let relative = String(url.path.dropFirst(workspace.path.count + 1))
            guard !relative.hasPrefix(Workspace.manifestFileName), relative != WorkspaceLock.fileName else { continue }
            out[relative] = values.fileSize ?? 0
        }
        return out
    }
}
