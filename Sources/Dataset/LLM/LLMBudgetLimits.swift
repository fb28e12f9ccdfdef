/// The recipe's `llm.budget`: spending limits in USD and tokens, per command and per workspace. A limit left unset
/// does not apply; a USD limit needs a price for the model (`llm.prices`, `llm.price_per_million`).
public struct LLMBudgetLimits: Sendable, Equatable {
    public var runUSD: Double?
    public var runTokens: Int?
    public var workspaceUSD: Double?
    public var workspaceTokens: Int?

    public init(runUSD: Double? = nil, runTokens: Int? = nil, workspaceUSD: Double? = nil, workspaceTokens: Int? = nil) {
        self.runUSD = runUSD
        self.runTokens = runTokens
        self.workspaceUSD = workspaceUSD
        self.workspaceTokens = workspaceTokens
    }

    /// True when any limit is set.
    public var isSet: Bool { runUSD != nil || runTokens != nil || workspaceUSD != nil || workspaceTokens != nil }
}
