import Dataset
import Foundation
import GRDB
import Synchronization

/// Keeps `llm.budget`: before each request the client asks `admit`, which refuses it (`ChatError` code
/// `budgetExhausted`, fatal: the stage stops and its run is closed `budget_exhausted`) when the spend so far, the
/// requests in flight and this one's worst case would pass a limit. The worst case is the calibrated prompt
/// (`RequestTokens` × `TokenCalibration`) and the request's `max_tokens` (else the observed mean completion, else
/// 1024), uncached. After the reply, `settle` replaces the reservation with the real usage.
///
/// "Per run" is this process: every client of a command (filter's two judges, the stages of `dsbuild run`) shares
/// one meter. "Per workspace" adds what the workspace's cache had spent when the process first looked. A rerun with a
/// higher limit goes on where the stopped one ended: its finished requests are cached.
public final class LLMBudget: Sendable {
    /// What was spent (and is reserved by requests in flight) in this process, per workspace.
    struct Spend: Sendable {
        var tokens = 0.0
        var usd = 0.0
        var reservedTokens = 0.0
        var reservedUSD = 0.0
        /// The workspace's cache when first seen: tokens and USD of every earlier request.
        var baselineTokens = 0.0
        var baselineUSD = 0.0
    }

    /// A request's claim on the budget until its reply is in.
    public struct Reservation: Sendable {
        let tokens: Double
        let usd: Double
        let model: String
        let prompt: Double

        /// The reservation as usage, for a reply that reports none: the worst case counts as spent.
        var asUsage: ChatUsage {
            ChatUsage(promptTokens: Int(prompt.rounded()), completionTokens: Int((tokens - prompt).rounded()))
        }
    }

    private static let spends = Mutex<[String: Spend]>([:])

    public let limits: LLMBudgetLimits
    let pricing: LLMPricing
    let calibration: TokenCalibration
    /// The workspace the spend is kept for (its root path).
    let workspace: String

    public init(settings: LLMSettings, manifest: Manifest, workspace: String) throws {
        limits = settings.budget
        pricing = LLMPricing(settings)
        calibration = try TokenCalibration.load(from: manifest)
        self.workspace = workspace
        let known = Self.spends.withLock { $0[workspace] != nil }
        if !known {
            let (tokens, usd) = try Self.cacheSpend(manifest: manifest, pricing: pricing)
            Self.spends.withLock { spends in
                if spends[workspace] == nil { spends[workspace] = Spend(baselineTokens: tokens, baselineUSD: usd) }
            }
        }
    }

    /// Tokens and USD of every request in the workspace's cache (USD only for priced models).
    static func cacheSpend(manifest: Manifest, pricing: LLMPricing) throws -> (Double, Double) {
        try manifest.read { db in
            var tokens = 0.0, usd = 0.0
            for row in try Row.fetchAll(db, sql: """
                SELECT model, SUM(prompt_tokens), SUM(cached_tokens), SUM(completion_tokens) FROM llm_cache GROUP BY model
                """) {
                let prompt = Double(row[1] as Int? ?? 0), cached = Double(row[2] as Int? ?? 0), completion = Double(row[3] as Int? ?? 0)
                tokens += prompt + completion
                usd += pricing.cost(model: row[0], prompt: prompt, cachedPrompt: cached, completion: completion) ?? 0
            }
            return (tokens, usd)
        }
    }

    /// The worst case of one request: calibrated prompt tokens and its completion limit.
    public func worstCase(_ tokens: RequestTokens, purpose: String) -> (prompt: Double, completion: Double) {
        let factor = calibration.promptEntry(model: tokens.model, purpose: purpose).entry.factor
        let completion = tokens.maxCompletion.map(Double.init)
            ?? calibration.meanCompletion(model: tokens.model, purpose: purpose) ?? 1024
        return (tokens.prompt * factor, completion)
    }

    /// Reserves the request's worst case, or throws when it would pass a limit.
    public func admit(body: Data, purpose: String) throws(ChatError) -> Reservation {
        let request = RequestTokens.of(body: body)
        let (prompt, completion) = worstCase(request, purpose: purpose)
        let tokens = prompt + completion
        let priced = pricing.cost(model: request.model, prompt: prompt, completion: completion)
        if (limits.runUSD != nil || limits.workspaceUSD != nil) && priced == nil {
            throw ChatError(.budgetExhausted, """
                llm.budget is set in USD but the model \(request.model) has no price: set llm.prices.\(request.model) \
                (or llm.price_per_million) so its requests can be counted, or give the budget in tokens
                """)
        }
        let usd = priced ?? 0
        let workspace = self.workspace, limits = self.limits
        return try Self.spends.withLock { spends throws(ChatError) -> Reservation in
            var spend = spends[workspace] ?? Spend()
            let runTokens = spend.tokens + spend.reservedTokens, runUSD = spend.usd + spend.reservedUSD
            let checks: [(limit: Double?, used: Double, add: Double, key: String, unit: String)] = [
                (limits.runUSD, runUSD, usd, "llm.budget.usd", "USD this run"),
                (limits.runTokens.map(Double.init), runTokens, tokens, "llm.budget.tokens", "tokens this run"),
                (limits.workspaceUSD, spend.baselineUSD + runUSD, usd, "llm.budget.workspace_usd", "USD in this workspace"),
                (limits.workspaceTokens.map(Double.init), spend.baselineTokens + runTokens, tokens, "llm.budget.workspace_tokens",
                 "tokens in this workspace"),
            ]
            for check in checks {
                guard let limit = check.limit, check.used + check.add > limit else { continue }
                throw ChatError(.budgetExhausted, """
                    the next \(purpose) request (up to \(Self.format(check.add, check.unit))) would pass \(check.key) \
                    (\(Self.format(limit, check.unit)); \(Self.format(check.used, check.unit)) spent or in flight): stopped before \
                    sending it — raise \(check.key) and run again to go on where it stopped
                    """)
            }
            spend.reservedTokens += tokens
            spend.reservedUSD += usd
            spends[workspace] = spend
            return Reservation(tokens: tokens, usd: usd, model: request.model, prompt: prompt)
        }
    }

    /// Replaces a reservation by what the request really used (nil: it failed, nothing was spent).
    public func settle(_ reservation: Reservation, usage: ChatUsage?) {
        let usd = usage.flatMap {
            pricing.cost(model: reservation.model, prompt: Double($0.promptTokens), cachedPrompt: Double($0.cachedTokens),
                         completion: Double($0.completionTokens))
        } ?? 0
        let workspace = self.workspace
        Self.spends.withLock { spends in
            var spend = spends[workspace] ?? Spend()
            spend.reservedTokens -= reservation.tokens
            spend.reservedUSD -= reservation.usd
            if let usage {
                spend.tokens += Double(usage.promptTokens + usage.completionTokens)
                spend.usd += usd
            }
            spends[workspace] = spend
        }
    }

    /// What this process spent in the workspace so far (tokens, USD).
    public var spentThisRun: (tokens: Double, usd: Double) {
        let workspace = self.workspace
        return Self.spends.withLock { ($0[workspace]?.tokens ?? 0, $0[workspace]?.usd ?? 0) }
    }

    static func format(_ value: Double, _ unit: String) -> String {
        unit.hasPrefix("USD") ? String(format: "$%.4f", value) : "\(Int(value.rounded())) tokens"
    }
}
