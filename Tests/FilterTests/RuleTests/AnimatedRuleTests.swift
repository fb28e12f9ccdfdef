import Dataset
@testable import Filter
import Testing
import _DSBuildTestSupport

@Suite struct AnimatedRuleTests {
    typealias T = RuleTesting

    @Test func dropsAnAnimatedGIFWithItsFrameCountAndKeepsAStillOne() async throws {
        let animated = try T.realProbe(ImageFactory.gif(width: 8, height: 8, frames: 3))
        #expect(animated.animated)
        let drop = await AnimatedRule().decide(T.subject(animated))
        #expect(!drop.pass && drop.value == "animated" && drop.threshold == "still")
        #expect(drop.reason == "animated gif (3 frames)")
        let still = await AnimatedRule().decide(T.subject(try T.realProbe(ImageFactory.gif(width: 8, height: 8))))
        #expect(still.pass && still.value == "still" && still.reason == "not animated")
    }

    @Test func anAnimatedProbeWithoutAFrameCountIsStillDropped() async {
        let decision = await AnimatedRule().decide(T.subject(T.probe(width: 8, height: 8, format: "webp", animated: true)))
        #expect(decision.reason == "animated webp")
    }

    @Test func onByDefaultAndKeepInTheRecipeTurnsItOff() throws {
        #expect(T.rule(AnimatedRule.self)?.settingsDescription == "drop")
        #expect(T.rule(AnimatedRule.self, try T.settings("  animated: keep\n")) == nil)
        #expect(T.rule(AnimatedRule.self, try T.settings("  animated: drop\n")) != nil)
        #expect(T.recipeError("  animated: maybe\n")?.key == "filter.animated")
        #expect(try T.settings("  animated: keep\n").recordJSON.contains(#""animated":"keep""#))
    }
}
