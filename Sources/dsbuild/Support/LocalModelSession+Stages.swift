import Dataset
import Filter
import Generate

/// A stage's settings under a local model: every model name is the served alias, the completion limit the local
/// default unless the recipe sets one, and what needs images is switched off — with one line each — when the
/// model has no vision projector.
extension LocalModelSession.Plan {
    /// The model, limit and `llm.local.model` (the stage's trim and schema rules read it) of any asking stage.
    func adapt<Settings: LLMStageSettings>(_ settings: inout Settings) {
        settings.llm.localModel = model.path
        settings.llm.localPrompting = llm.localPrompting
        settings.llm.model = alias
        settings.ownModel = alias
        if settings.llm.maxTokens == nil { settings.llm.maxTokens = llm.localMaxTokens }
    }

    func adapt(_ settings: inout DescribeSettings, _ context: CommandContext) {
        adapt(&settings)
        settings.verifyModel = alias
        guard !hasVision else { return }
        if settings.modes.contains("image-grounded") {
            LocalModelSession.skipped("describe", "image-grounded mode", context, plan: self)
            settings.modes.removeAll { $0 == "image-grounded" }
        }
        if settings.verify {
            LocalModelSession.skipped("describe", "describe.verify (checks descriptions against images)", context, plan: self)
            settings.verify = false
        }
    }

    func adapt(_ settings: inout MCQSettings, _ context: CommandContext) {
        adapt(&settings)
        settings.verifyModel = alias
        if !hasVision && settings.verify {
            LocalModelSession.skipped("mcq", "answer-key verification (mcq.verify, asks with the image)", context, plan: self)
            settings.verify = false
        }
    }

    /// Both filter judges look at the image: a text-only local model cannot answer them.
    func adapt(_ settings: inout FilterSettings, _ context: CommandContext) {
        guard !hasVision else { return }
        if settings.vlmJudge {
            LocalModelSession.skipped("filter", "the watermark judge (filter.vlm_judge)", context, plan: self)
            settings.vlmJudge = false
        }
        if settings.relevance {
            LocalModelSession.skipped("filter", "the relevance judge (filter.relevance)", context, plan: self)
            settings.relevance = false
        }
    }
}
