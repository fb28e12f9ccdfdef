import Dataset
import Testing
@testable import Train

/// Shard records frame a description with its aspect's own turns (declared with the aspect, in Dataset), and
/// the chat template hash every record carries is what it was before the turns moved there.
@Suite struct AspectTurnTests {
    @Test func shardTurnsComeFromTheAspect() {
        #expect(ChatTemplates.describeText("visual") == Aspect.visual.textTurn)
        #expect(ChatTemplates.describeImage("cultural") == Aspect.cultural.imageTurn)
        #expect(ChatTemplates.describeText("historical") == "Tell me about the history of the {keyword}.")
        #expect(ChatTemplates.describeText("caption") == Aspect.genericTextTurn, "caption has no turn of its own")
        #expect(ChatTemplates.describeImage("my-own") == Aspect.genericImageTurn)
    }

    @Test func chatTemplateHashIsUnchanged() {
        #expect(ChatTemplates.sha256 == "c6da8ee15ec47402db79186a5ff8389c426266d3b995fb7723b9f19b79276200")
    }
}
