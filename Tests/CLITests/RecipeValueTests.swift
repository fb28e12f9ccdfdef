import Dataset
import Foundation
import Testing
import _DSBuildTestSupport

/// Case 8 of issue 15: a recipe value is checked by the same rule as its command-line option, with the file,
/// line and key. (`filter.aspect_ratio: [2.0, 0.5]` used to drop every image with exit 0, `min_short_side: -5`
/// and `test_fraction: 1.5` were taken, `collect.licenses: any` was refused although `--licenses any` works.)
@Suite struct RecipeValueTests {
    let cli = CommandRunner()

    struct Case: Sendable, CustomStringConvertible {
        let yaml: String
        let key: String
        let line: Int
        let message: String
        var description: String { key }
    }

    static let refused: [Case] = [
        Case(yaml: "filter:\n  aspect_ratio: [2.0, 0.5]\n", key: "filter.aspect_ratio", line: 2,
             message: "MIN 2 is greater than MAX 0.5; write [MIN, MAX]"),
        Case(yaml: "filter:\n  aspect_ratio: [0, 2]\n", key: "filter.aspect_ratio", line: 2, message: "MIN must be greater than 0, not 0"),
        Case(yaml: "filter:\n  aspect_ratio: [0.5]\n", key: "filter.aspect_ratio", line: 2, message: "must be two numbers [MIN, MAX]"),
        Case(yaml: "name: x\nfilter:\n  min_short_side: -5\n", key: "filter.min_short_side", line: 3, message: "must be at least 0, not -5"),
        Case(yaml: "filter:\n  max_bytes: -1\n", key: "filter.max_bytes", line: 2, message: "must be at least 0, not -1"),
        Case(yaml: "mcq:\n  test_fraction: 1.5\n", key: "mcq.test_fraction", line: 2, message: "must be in [0, 1), not 1.5"),
        Case(yaml: "mcq:\n  test_fraction: 1\n", key: "mcq.test_fraction", line: 2, message: "must be in [0, 1), not 1"),
        Case(yaml: "shards:\n  shard_size: 0\n", key: "shards.shard_size", line: 2, message: "must be at least 1, not 0"),
        Case(yaml: "llm:\n  model: m\n  concurrency: 0\n", key: "llm.concurrency", line: 3, message: "must be at least 1, not 0"),
        Case(yaml: "collect:\n  licenses: [cc-by, any]\n", key: "collect.licenses", line: 2, message: "`any` accepts every licence"),
        Case(yaml: "collect:\n  licenses: [cc-by, gfdl]\n", key: "collect.licenses", line: 2, message: "unknown licence"),
        Case(yaml: "collect:\n  per_keyword: 0\n", key: "collect.per_keyword", line: 2, message: "must be at least 1, not 0"),
    ]

    @Test(arguments: refused)
    func recipeValueOutsideItsRuleIsRefusedWithFileLineAndKey(_ c: Case) throws {
        let tmp = TemporaryDirectory()
        let recipe = tmp.path("r.yaml")
        try c.yaml.write(to: recipe, atomically: true, encoding: .utf8)
        let result = try cli.run(["init", tmp.path("w").path, "--recipe", recipe.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("\(recipe.path):\(c.line): `\(c.key)`: \(c.message)"), "\(result.stderr)")
    }

    @Test func licencesAnyIsAcceptedInARecipeAsOnTheCommandLine() throws {
        let tmp = TemporaryDirectory()
        let recipe = tmp.path("r.yaml")
        try "collect:\n  licenses: any\nfilter:\n  aspect_ratio: [0.5, 2.0]\n  min_short_side: 0\n".write(to: recipe, atomically: true, encoding: .utf8)
        let result = try cli.run(["init", tmp.path("w").path, "--recipe", recipe.path])
        #expect(result.status == 0, "\(result.stderr)")
        // collect reads the licences from the stored recipe (where `any` used to be refused).
        let files = try Hardening.images(count: 1, maxBytes: 200_000)
        let source = try Hardening.directorySource(files, keyword: "hanbok", in: tmp.path("src"))
        let collect = try cli.run(["collect", "--workspace", tmp.path("w").path, "--sources", "directory",
                                   "--source-file", source.path, "--quiet"])
        #expect(collect.status == 0, "\(collect.stderr)")
        #expect(try Hardening.rows(tmp.path("w"), "SELECT COUNT(*) FROM images") == [["1"]])
    }

    @Test func commandLineOptionsBreakingTheSameRulesAreRefusedWithTheSameMessage() throws {
        let tmp = TemporaryDirectory()
        let w = tmp.path("w").path
        #expect(try cli.run(["init", w]).status == 0)
        let aspect = try cli.run(["filter", "--workspace", w, "--aspect-ratio", "2.0,0.5"])
        #expect(aspect.status == 64, "a usage error")
        #expect(aspect.stderr.contains("--aspect-ratio MIN 2 is greater than MAX 0.5; write [MIN, MAX]"), "\(aspect.stderr)")
        let side = try cli.run(["filter", "--workspace", w, "--min-short-side=-5"])
        #expect(side.status == 64)
        #expect(side.stderr.contains("--min-short-side must be at least 0, not -5"), "\(side.stderr)")
        let fraction = try cli.run(["mcq", "--workspace", w, "--test-fraction", "1.5"])
        #expect(fraction.status == 64)
        #expect(fraction.stderr.contains("--test-fraction must be in [0, 1), not 1.5"), "\(fraction.stderr)")
        let shardSize = try cli.run(["shards", "--workspace", w, "--shard-size", "0"])
        #expect(shardSize.status == 64)
        #expect(shardSize.stderr.contains("--shard-size must be at least 1, not 0"), "\(shardSize.stderr)")
        let licences = try cli.run(["collect", "--workspace", w, "--licenses", "cc-by,gfdl"])
        #expect(licences.status == 64)
        #expect(licences.stderr.contains("unknown licence"), "\(licences.stderr)")
    }
}
