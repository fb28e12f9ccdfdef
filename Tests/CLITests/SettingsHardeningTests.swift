import Collect
import Dataset
import Filter
import Foundation
import Testing
import _DSBuildTestSupport

/// What an adversarial pass over the typed settings found, each now refused or read the one documented way,
/// through the commands: an empty licence list, credentials hidden in a list item, a mapping key or the value of
/// a variable the recipe names, non-finite numbers, a CR/LF in the User-Agent contact, a comma list written as
/// one string, and a source named twice.
@Suite(.serialized) struct SettingsHardeningTests {
    let tmp = TemporaryDirectory("dsbuild-settings-hardening")
    let cli = CommandRunner()

    private func recipe(_ name: String, _ text: String) throws -> String {
        let url = tmp.path(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test(arguments: [
        ("licences-empty", "collect:\n  licenses: []\n", "collect.licenses", "names no licence"),
        ("secret-in-list", "filter:\n  watermark:\n    stock_names: [\"Getty\", \"http://usr:pwCANARY@127.0.0.1/\"]\n", "filter.watermark.stock_names", "credential"),
        ("secret-as-key", "describe:\n  min_chars:\n    \"http://usr:pwCANARY@127.0.0.1/\": 3\n", "describe.min_chars", "credential"),
        ("inf", "llm:\n  timeout_seconds: .inf\n", "llm.timeout_seconds", "finite"),
        ("nan-pair", "filter:\n  aspect_ratio: [.nan, 2]\n", "filter.aspect_ratio", "finite"),
        ("crlf-contact", "contact: \"mailto:a@example.org\\r\\nX-Injected: 1\"\n", "contact", "control characters"),
        ("bogus-format", "filter:\n  formats: [bogus]\n", "filter.formats", "one of"),
    ])
    func aRecipeHoldingItIsRefusedNamingTheKeyWithoutEchoingASecret(_ name: String, _ text: String, _ key: String, _ words: String) throws {
        let result = try cli.run(["recipe", try recipe("\(name).yaml", text)])
        #expect(result.status == 1, "\(name): \(result.stdout) \(result.stderr)")
        #expect(result.stderr.contains(key) && result.stderr.contains(words), "\(name): \(result.stderr)")
        #expect(!result.stderr.contains("pwCANARY") && !result.stdout.contains("pwCANARY"))
    }

    @Test func theValueOfAVariableTheRecipeNamesIsASecretAnywhereInIt() throws {
        let cli = CommandRunner(environment: ["MY_ENDPOINT_KEY": "sk-canary-7f3a9b1c2d"])
        let path = try recipe("named-variable.yaml", "name: sk-canary-7f3a9b1c2d\nllm:\n  api_key_env: MY_ENDPOINT_KEY\n")
        let result = try cli.run(["recipe", path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("`name`") && result.stderr.contains("secret"), "\(result.stderr)")
        #expect(!(result.stdout + result.stderr).contains("sk-canary-7f3a9b1c2d"))
    }

    @Test func optionsRefuseWhatTheRecipeRefuses() throws {
        let ws = tmp.path("ws")
        #expect(try cli.run(["init", ws.path, "--quiet"]).status == 0)
        for (args, words) in [(["collect", "--licenses", ""], "names no licence"),
                              (["collect", "--contact", "a\r\nX-Injected: 1"], "control characters"),
                              (["filter", "--aspect-ratio", "nan,2"], "finite")] {
            let result = try cli.run(args + ["--workspace", ws.path])
            #expect(result.status == 64, "\(args): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains(words), "\(args): \(result.stderr)")
        }
    }

    @Test func aCommaListWrittenAsOneStringIsReadAsTheListByEveryListKey() throws {
        let path = try recipe("comma.yaml", "filter:\n  formats: \"jpeg, png\"\ndescribe:\n  aspects: visual, cultural\ncollect:\n  licenses: \"cc0, cc-by\"\n")
        let result = try cli.run(["recipe", path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect((json["filter"] as? [String: Any])?["formats"] as? [String] == ["jpeg", "png"])
        #expect((json["describe"] as? [String: Any])?["aspects"] as? [String] == ["visual", "cultural"])
        #expect(((json["collect"] as? [String: Any])?["licenses"] as? [String]).map(Set.init) == ["cc0", "cc-by"])
    }

    @Test func aSourceNamedTwiceIsSearchedOnceAndASourceListSwitchedOffSearchesNothing() throws {
        let photos = try PhotoFolder(root: tmp.path("photos"))
        let item = try #require(KViscuitFixture.type1Items().first {
            FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
        })
        _ = try photos.add(item, keyword: "hanbok")
        let path = try recipe("sources.yaml", "keywords: kw.txt\ncollect:\n  licenses: [any]\n  sources:\n    directory:\n      path: photos\n")
        try "hanbok\n".write(to: tmp.path("kw.txt"), atomically: true, encoding: .utf8)
        let ws = tmp.path("ws-sources")
        #expect(try cli.run(["init", ws.path, "--recipe", path, "--quiet"]).status == 0)
        let twice = try cli.run(["collect", "--workspace", ws.path, "--sources", "directory,directory", "--quiet"])
        #expect(twice.status == 0, "\(twice.stderr)")
        #expect(!twice.stderr.contains("Fatal error"))

        let off = try recipe("off.yaml", "collect:\n  sources:\n    directory:\n      enabled: false\n      path: photos\n")
        let settings = try CommandRunner().run(["recipe", off, "--json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(settings.stdout.utf8)) as? [String: Any])
        let sources = try #require((json["collect"] as? [String: Any])?["sources"] as? [String: Any])
        #expect((sources["commons"] as? [String: Any])?["enabled"] as? Bool == false, "\(sources)")
        #expect((sources["directory"] as? [String: Any])?["enabled"] as? Bool == false)
    }
}
