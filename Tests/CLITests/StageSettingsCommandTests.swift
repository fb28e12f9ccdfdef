import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

/// Issue 16 through the commands: `describe` and `mcq` options and recipe keys refuse the same bad values with
/// the same words, and a run records the settings it applied — command-line overrides and `llm:` fallbacks
/// resolved, the split included.
@Suite(.serialized) struct StageSettingsCommandTests {
    let tmp = TemporaryDirectory("dsbuild-stage-settings")
    let cli = CommandRunner()

    @Test(arguments: [
        ("describe:\n  per_keyword: 0\n", "describe.per_keyword", ["describe", "--per-keyword", "0"], "--per-keyword", "must be at least 1, not 0"),
        ("describe:\n  concurrency: 0\n", "describe.concurrency", ["describe", "--concurrency", "0"], "--concurrency", "must be at least 1, not 0"),
        ("mcq:\n  per_image: 0\n", "mcq.per_image", ["mcq", "--per-image", "0"], "--per-image", "must be at least 1, not 0"),
        ("mcq:\n  types: [1, 3]\n", "mcq.types", ["mcq", "--types", "1,3"], "--types", "must list question types 1 and 2 only, not 3"),
        ("mcq:\n  test_images_per_keyword: 0\n", "mcq.test_images_per_keyword", ["mcq", "--test-images-per-keyword", "0"],
         "--test-images-per-keyword", "must be at least 1, not 0"),
        ("mcq:\n  blind_repeats: 0\n", "mcq.blind_repeats", ["mcq", "--blind-repeats", "0"], "--blind-repeats", "must be at least 1, not 0"),
    ])
    func optionAndRecipeRefuseTheSameValue(_ yaml: String, _ key: String, _ command: [String], _ option: String, _ message: String) throws {
        let recipe = tmp.path("bad-\(key).yaml")
        try yaml.write(to: recipe, atomically: true, encoding: .utf8)
        let refused = try cli.run(["init", tmp.path("bad-ws-\(key)").path, "--recipe", recipe.path])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("`\(key)`: \(message)"), "\(refused.stderr)")
        let ws = tmp.path("ok-ws-\(key)")
        #expect(try cli.run(["init", ws.path]).status == 0)
        let viaOption = try cli.run(command + ["--workspace", ws.path])
        #expect(viaOption.status == 64, "a usage error")
        #expect(viaOption.stderr.contains("\(option) \(message)"), "\(viaOption.stderr)")
    }


    @Test func describeAndMCQRunsRecordTheSettingsApplied() throws {
        let chat = FakeChatEndpoint(responder: PipelineChatResponder.respond)
        let server = try chat.serve()
        defer { server.stop() }
        let env = CommandRunner(environment: ["OPENAI_BASE_URL": server.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-settings-test"])
        try "Galbi\nKimchi\nBossam\nJapchae\n".write(to: tmp.path("kw.txt"), atomically: true, encoding: .utf8)
        try """
            name: applied
            keywords: kw.txt
            llm:
              model: llm-model
              temperature: 0.4
              concurrency: 3
            describe:
              aspects: [visual]
              languages: [en]
              max_tokens: 300
            mcq:
              types: [2]
              seed: 5
              test_fraction: 0.25
            """.write(to: tmp.path("recipe.yaml"), atomically: true, encoding: .utf8)
        let ws = tmp.path("ws")
        #expect(try env.run(["init", ws.path, "--recipe", tmp.path("recipe.yaml").path, "--quiet"]).status == 0)
        let described = try env.run(["describe", "--workspace", ws.path, "--model", "cli-model", "--quiet"])
        #expect(described.status == 0, "\(described.stderr)")
        let mcq = try env.run(["mcq", "--workspace", ws.path, "--concurrency", "2", "--quiet"])
        #expect(mcq.status == 0 || mcq.status == 1, "\(mcq.stderr)")

        func settings(_ command: String) throws -> [String: Any] {
            let text = try #require(try Hardening.rows(ws, "SELECT settings FROM runs WHERE command = '\(command)' ORDER BY id DESC LIMIT 1").first?.first)
            return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        }
        let d = try settings("describe")
        #expect(d["model"] as? String == "cli-model", "the option over the recipe")
        #expect(d["temperature"] as? Double == 0.4, "llm.temperature, describe's own unset")
        #expect(d["max_tokens"] as? Int == 300 && d["concurrency"] as? Int == 3)
        #expect(d["aspects"] as? [String] == ["visual"])
        #expect((d["llm"] as? [String: Any])?["model"] as? String == "llm-model")
        let m = try settings("mcq.type2")
        #expect(m["model"] as? String == "llm-model" && m["concurrency"] as? Int == 2)
        #expect(m["types"] as? [Int] == [2] && m["seed"] as? Int == 5 && m["test_fraction"] as? Double == 0.25)
        #expect(m["split_by"] as? String == "image")
    }
}
