import Dataset
import Foundation
import Testing
import _DSBuildTestSupport
@testable import Generate

/// Issue 16 item 5: an aspect is one value — name, prompt, length bounds and shard turns declared once in
/// `Sources/Dataset/Aspects` and read by describe and shards.
@Suite struct AspectTests {
    @Test func everyAspectIsListedOnce() {
        let names = Aspect.builtin.map(\.name)
        #expect(Set(names).count == names.count)
        #expect(names.allSatisfy { Aspect.named($0) != nil })
        #expect(Aspect.promptable == ["visual", "cultural", "ecological", "caption"])
    }

    /// The built-in prompts are byte for byte what they were (their sha256 is stored with every description
    /// and the prompt is in every cached request body), so no description becomes pending and no cached reply
    /// is lost.
    @Test func builtinPromptsKeepTheirHashes() throws {
        let expected = [
            "visual": "f123a791934afa992b92702bb6f8e4bdfa8daa7f7e8719d4d9b8d44c4ba6b96e",
            "cultural": "c7bece3a82a42f09a736a8eae1e3bb39c44e731f3874100eafce951c86acbd4a",
            "ecological": "d24d09106484ab2b913981d19ea1ce9b9cbf861d1fe35ad71b072a5f5e4b30e1",
            "caption": "f1ad8ef594eaf41a8ff04352d7e823b0a40e3e0e42b9bac63a58450e4350632d",
        ]
        for (name, sha) in expected {
            let template = try #require(try AspectTemplate.load(aspect: name, directory: nil))
            #expect(template.sha256 == sha, "\(name)")
        }
    }

    @Test func aTemplateFileOverridesTheBuiltinPromptButNotItsBounds() throws {
        let tmp = TemporaryDirectory("dsbuild-aspects")
        try "Describe {keyword}.".write(to: tmp.path("visual.txt"), atomically: true, encoding: .utf8)
        try "History of {keyword}.".write(to: tmp.path("historical.txt"), atomically: true, encoding: .utf8)
        #expect(try AspectTemplate.load(aspect: "visual", directory: tmp.url)?.text == "Describe {keyword}.")
        #expect(try AspectTemplate.load(aspect: "historical", directory: tmp.url)?.text == "History of {keyword}.")
        #expect(try AspectTemplate.load(aspect: "historical", directory: nil) == nil, "historical has no built-in prompt")
        #expect(DescribeSettings().lengthBounds(of: "visual") == (200, 2500))
    }

    /// No module keeps its own table of aspect names: the names appear as string literals only in their
    /// declarations. (`"caption"` and `"visual"` also name other things — a source's image caption, the
    /// description eval prefers — so the aspects only a table would name are looked for.)
    @Test func noOtherSourceListsAspects() throws {
        let sources = TestPaths.repositoryRoot.appendingPathComponent("Sources")
        let enumerator = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
        var offenders: [String] = []
        for case let file as URL in enumerator where file.pathExtension == "swift" {
            if file.path.contains("/Dataset/Aspects/") || file.path.contains("/_DSBuildTestSupport/") { continue }
            let text = try String(contentsOf: file, encoding: .utf8)
            for name in ["\"cultural\"", "\"ecological\"", "\"historical\""] where text.contains(name) {
                offenders.append("\(file.lastPathComponent): \(name)")
            }
        }
        #expect(offenders.isEmpty, "\(offenders)")
    }
}
