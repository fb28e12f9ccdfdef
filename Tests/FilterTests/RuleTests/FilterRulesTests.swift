import Dataset
@testable import Filter
import Foundation
import Testing
import _DSBuildTestSupport

/// The rule registry is complete: every rule in the module is listed once, lives in its own file with its own
/// test file, and contributes its keys to `filter:` exactly once.
@Suite struct FilterRulesTests {
    static let sources = TestPaths.repositoryRoot.appendingPathComponent("Sources/Filter")
    static let rulesFolder = sources.appendingPathComponent("Rules")
    static let testsFolder = TestPaths.repositoryRoot.appendingPathComponent("Tests/FilterTests/RuleTests")

    /// Every type the Filter module declares as a `FilterRule` or `RegisteredRule`, by file.
    static func declaredConformers() throws -> [(type: String, file: String)] {
        let pattern = try NSRegularExpression(
            pattern: #"(?:struct|class|enum|actor|extension)\s+(\w+)\s*:[^{]*\b(?:FilterRule|RegisteredRule)\b[^{]*\{"#)
        var found: [(String, String)] = []
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)
        while let url = files?.nextObject() as? URL {
            guard url.pathExtension == "swift" else { continue }
            let text = try String(contentsOf: url, encoding: .utf8)
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                guard let range = Range(match.range(at: 1), in: text) else { continue }
                found.append((String(text[range]), url.lastPathComponent))
            }
        }
        return found
    }

    static var registeredTypes: [String] { FilterRules.all.map { String(describing: $0) } }

    @Test func everyRuleInTheModuleIsListedExactlyOnce() throws {
        let declared = try Self.declaredConformers()
        #expect(!declared.isEmpty)
        for (type, file) in declared {
            #expect(Self.registeredTypes.filter { $0 == type }.count == 1, "\(type) (\(file)) is not listed once in FilterRules.all")
        }
        #expect(Set(declared.map(\.type)) == Set(Self.registeredTypes), "FilterRules.all lists a type the scan does not see")
        #expect(Set(FilterRules.names).count == FilterRules.all.count, "two rules share a name: \(FilterRules.names)")
        // Duplicates is a whole-set step recorded under its own name; no per-image rule may take it.
        #expect(!FilterRules.names.contains(FilterPipeline.duplicatesRule))
        #expect(!FilterRules.names.contains(FilterPipeline.semanticDuplicatesRule))
    }

    @Test func everyRuleHasItsOwnFileAndItsOwnTestFile() throws {
        let declared = try Self.declaredConformers()
        for type in Self.registeredTypes {
            #expect(declared.first { $0.type == type }?.file == "\(type).swift", "\(type) is not declared in Rules/\(type).swift")
            let tests = Self.testsFolder.appendingPathComponent("\(type)Tests.swift")
            #expect(FileManager.default.fileExists(atPath: tests.path), "no RuleTests/\(type)Tests.swift")
        }
    }

    @Test func everyKeyARuleDeclaresIsAFilterKeyExactlyOnce() {
        let paths = FilterSettings.keys.map(\.path)
        #expect(Set(paths).count == paths.count, "a filter key is declared twice: \(paths)")
        var ruleKeys: [String] = []
        for rule in FilterRules.all {
            let keys = rule.filterKeys.map(\.path)
            #expect(!keys.isEmpty, "\(rule.ruleName) declares no key (at least its on/off switch)")
            for key in keys { #expect(paths.filter { $0 == key }.count == 1, "\(rule.ruleName)'s key \(key)") }
            ruleKeys += keys
        }
        // The rest are the filter-wide keys, and rule keys come first, in report order.
        #expect(Array(paths.prefix(ruleKeys.count)) == ruleKeys)
        #expect(Array(paths.dropFirst(ruleKeys.count)) == [
            "duplicates.enabled", "duplicates.phash_distance", "duplicates.phash",
            "semantic_duplicates.enabled", "semantic_duplicates.threshold", "min_per_keyword", "concurrency",
            "embeddings.model", "embeddings.batch_size", "embeddings.prompt", "embeddings.device",
        ])
    }

    /// A rule's key sets that rule's settings and no other rule's: the lifted key path reaches the right entry.
    @Test func aRuleKeySetsItsOwnRuleOnly() throws {
        let settings = try RuleTesting.settings("  max_pixels: 1000\n  integrity:\n    max_pixels: 5\n")
        #expect(settings[PixelCountRule.self].maximum == 1000)
        #expect(settings[IntegrityRule.self].maxPixels == 5)
        #expect(settings[ByteSizeRule.self].maximum == nil)
    }

    @Test func theDefaultsSwitchOnTheVLVRulesInReportOrder() {
        let names = FilterSettings().rules(analyzer: ScriptedAnalyzer(), judge: nil).map(\.name)
        #expect(names == ["min_short_side", "aspect_ratio", "animated", "watermark", "rights", "integrity"])
        #expect(FilterRules.names == [
            "min_short_side", "max_long_side", "pixels", "aspect_ratio", "bytes", "formats", "animated", "watermark",
            "rights", "integrity", "clip_rank", "relevance",
        ])
    }

    /// Decisions are stored under `name|settingsDescription`: the registry must build the default rules with the
    /// descriptions earlier versions recorded, or every image of an existing workspace would be decided again.
    @Test func theDefaultRulesKeepTheSettingsDescriptionsOfEarlierVersions() {
        let rules = FilterSettings().rules(analyzer: ScriptedAnalyzer(), judge: nil)
        let descriptions = Dictionary(uniqueKeysWithValues: rules.map { ($0.name, $0.settingsDescription) })
        #expect(descriptions == [
            "min_short_side": "512", "aspect_ratio": "0.5-2.0", "animated": "drop",
            "watermark": "0.8|\(WatermarkRule.defaultStockNames.sorted().joined(separator: ","))|\(WatermarkRule.defaultStockDomains.sorted().joined(separator: ","))|judge=false",
            "rights": "dmi-prohibited", "integrity": "178956970",
        ])
    }
}
