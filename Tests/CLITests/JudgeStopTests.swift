import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

/// A watermark judge whose endpoint refuses the key (401) stops `dsbuild filter` with exit 2 — as describe and
/// mcq stop — instead of asking once per image; the images stay undecided (never dropped) and a rerun with a
/// working endpoint decides them all.
@Suite struct JudgeStopTests {
    @Test func aRefusedKeyStopsTheFilterRunAndLeavesTheImagesPending() throws {
        let tmp = TemporaryDirectory()
        let files = try Hardening.images(count: 8, maxBytes: 300_000)
        let source = try Hardening.directorySource(files, keyword: "hanbok", in: tmp.path("src"))
        try """
            llm:
              model: judge-model
            filter:
              min_short_side: 0
              aspect_ratio: [0.1, 10]
              duplicates: {enabled: false}
              concurrency: 1
            """.write(to: tmp.path("r.yaml"), atomically: true, encoding: .utf8)
        let w = tmp.path("w")
        let cli = CommandRunner()
        #expect(try cli.run(["init", w.path, "--recipe", tmp.path("r.yaml").path]).status == 0)
        #expect(try cli.run(["collect", "--workspace", w.path, "--sources", "directory", "--source-file", source.path, "--quiet"]).status == 0)

        let refusing = FakeChatEndpoint(responder: { _ in .error(status: 401, message: "Incorrect API key provided", code: "invalid_api_key") })
        let refusingServer = try refusing.serve()
        defer { refusingServer.stop() }
        let refused = try CommandRunner(environment: ["OPENAI_BASE_URL": refusingServer.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-wrong"])
            .run(["filter", "--workspace", w.path, "--vlm-judge", "--quiet"])
        #expect(refused.status == 2, "\(refused.stderr)")
        #expect(refused.stderr.contains("filter stopped") && refused.stderr.contains("Incorrect API key"), "\(refused.stderr)")
        #expect(refusing.requestCount < files.count, "asked \(refusing.requestCount) times for \(files.count) images")
        #expect(try Hardening.rows(w, "SELECT COUNT(*) FROM filter_decisions WHERE rule = 'watermark' AND pass = 0") == [["0"]], "no drop")

        let working = FakeChatEndpoint(responder: { _ in .content(#"{"watermark": false, "evidence": "none"}"#) })
        let workingServer = try working.serve()
        defer { workingServer.stop() }
        let rerun = try CommandRunner(environment: ["OPENAI_BASE_URL": workingServer.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-right"])
            .run(["filter", "--workspace", w.path, "--vlm-judge", "--quiet"])
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try Hardening.rows(w, "SELECT COUNT(*) FROM filter_decisions WHERE rule = 'watermark' AND pass = 1") == [["\(files.count)"]])
    }
}
