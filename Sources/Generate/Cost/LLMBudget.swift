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
        /// Requests admitted and not settled yet.
        var inFlight = 0
        /// This process's replies: the endpoint's prompt counts and dsbuild's approximations of the same requests.
        var measuredPrompt = 0.0
        var approximatedPrompt = 0.0
        /// Models in the workspace's cache with tokens but no price (they make a USD limit on the workspace unknowable).
        var unpricedModels: [String] = []
        /// Set when a request was refused: the stage stops, and no later request of this process may start meanwhile
        /// (a smaller one would fit, be sent, and be cut off by the stop with its reply paid for and lost).
        var stop: ChatError?
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
        let batch: Bool
        /// dsbuild's approximation of the prompt, uncalibrated (what a measured reply calibrates).
        let approximated: Double

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
            let (tokens, usd, unpriced) = try Self.cacheSpend(manifest: manifest, pricing: pricing)
            Self.spends.withLock { spends in
                if spends[workspace] == nil {
                    spends[workspace] = Spend(unpricedModels: unpriced, baselineTokens: tokens, baselineUSD: usd)
                }
            }
        }
    }

    /// Tokens and USD of every request in the workspace's cache (a negative count an endpoint reported counts as 0),
    /// and the models with tokens but no price.
    static func cacheSpend(manifest: Manifest, pricing: LLMPricing) throws -> (Double, Double, [String]) {
        try manifest.read { db in
            var tokens = 0.0, usd = 0.0
            var unpriced: [String] = []
            for row in try Row.fetchAll(db, sql: """
                SELECT model, SUM(MAX(prompt_tokens, 0)), SUM(MAX(cached_tokens, 0)), SUM(MAX(completion_tokens, 0))
                FROM llm_cache GROUP BY model
                """) {
                let prompt = Double(row[1] as Int? ?? 0), cached = Double(row[2] as Int? ?? 0), completion = Double(row[3] as Int? ?? 0)
                tokens += prompt + completion
                if let cost = pricing.cost(model: row[0], prompt: prompt, cachedPrompt: min(cached, prompt), completion: completion) {
                    usd += cost
                } else if prompt + completion > 0 {
                    unpriced.append(row[0])
                }
            }
            return (tokens, usd, unpriced)
        }
    }

    /// The worst case of one request: its prompt by the approximation × the larger of the cache's calibration and what
    /// this process's replies measured, and its completion limit (else the observed mean, else 1024).
    public func worstCase(_ tokens: RequestTokens, purpose: String) -> (prompt: Double, completion: Double) {
        var factor = calibration.promptEntry(model: tokens.model, purpose: purpose).entry.factor
        let workspace = self.workspace
        let live = Self.spends.withLock { spends -> Double? in
            guard let spend = spends[workspace], spend.approximatedPrompt > 0 else { return nil }
            return spend.measuredPrompt / spend.approximatedPrompt
        }
        if let live { factor = max(factor, live) }
        let completion = tokens.maxCompletion.map(Double.init)
            ?? calibration.meanCompletion(model: tokens.model, purpose: purpose) ?? 1024
        return (tokens.prompt * factor, completion)
    }

    /// Reserves the request's worst case (at the Batch API's price when `batch`), or throws when it would pass a
    /// limit. While other requests are in flight it waits for them first: their replies are usually far below their
    /// worst case, and a stage is stopped only when the request would pass the limit with nothing in flight.
    public func admit(body: Data, purpose: String, batch: Bool = false) async throws(ChatError) -> Reservation {
        let request = RequestTokens.of(body: body)
        while true {
            switch try reserve(request, purpose: purpose, batch: batch) {
            case .some(let reservation): return reservation
            case .none:
                do { try await Task.sleep(for: .milliseconds(20)) } catch { throw ChatError(.cancelled, "cancelled while waiting for the budget") }
            }
        }
    }

    /// One try at reserving: the reservation, nil when it must wait for requests in flight, or the stop.
    private func reserve(_ request: RequestTokens, purpose: String, batch: Bool) throws(ChatError) -> Reservation? {
        let (prompt, completion) = worstCase(request, purpose: purpose)
        let tokens = prompt + completion
        let priced = pricing.cost(model: request.model, prompt: prompt, completion: completion, batch: batch)
        if (limits.runUSD != nil || limits.workspaceUSD != nil) && priced == nil {
            throw ChatError(.budgetExhausted, """
                llm.budget is set in USD but the model \(request.model) has no price: set llm.prices.\(request.model) \
                (or llm.price_per_million) so its requests can be counted, or give the budget in tokens
                """)
        }
        let usd = priced ?? 0
        let workspace = self.workspace, limits = self.limits
        return try Self.spends.withLock { spends throws(ChatError) -> Reservation? in
            var spend = spends[workspace] ?? Spend()
            if let stop = spend.stop { throw stop }
            if limits.workspaceUSD != nil, let model = spend.unpricedModels.first {
                throw ChatError(.budgetExhausted, """
                    llm.budget.workspace_usd is set but the workspace's cache holds tokens of the model \(model), which has no \
                    price: set llm.prices.\(model) so its spending can be counted, or give the workspace budget in tokens
                    """)
            }
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
                if spend.inFlight > 0 { return nil }
                let stop = ChatError(.budgetExhausted, """
                    the next \(purpose) request (up to \(Self.format(check.add, check.unit))) would pass \(check.key) \
                    (\(Self.format(limit, check.unit)); \(Self.format(check.used, check.unit)) spent or in flight): stopped before \
                    sending it — raise \(check.key) and run again to go on where it stopped
                    """)
                spend.stop = stop
                spends[workspace] = spend
                throw stop
            }
            spend.reservedTokens += tokens
            spend.reservedUSD += usd
            spend.inFlight += 1
            spends[workspace] = spend
            return Reservation(tokens: tokens, usd: usd, model: request.model, prompt: prompt, batch: batch,
                               approximated: request.prompt)
        }
    }

    /// Replaces a reservation by what the request was billed (nil: nothing). `measured`: `usage` is the endpoint's
    /// own count (it calibrates the worst case of the next requests), not a stand-in for a reply that gave none.
    public func settle(_ reservation: Reservation, usage: ChatUsage?, measured: Bool = true) {
        let usd = usage.flatMap {
            pricing.cost(model: reservation.model, prompt: Double($0.promptTokens), cachedPrompt: Double($0.cachedTokens),
                         completion: Double($0.completionTokens), batch: reservation.batch)
        } ?? 0
        let workspace = self.workspace
        Self.spends.withLock { spends in
            var spend = spends[workspace] ?? Spend()
            spend.reservedTokens -= reservation.tokens
            spend.reservedUSD -= reservation.usd
            spend.inFlight -= 1
            if let usage {
                spend.tokens += Double(usage.promptTokens + usage.completionTokens)
                spend.usd += usd
                if measured, usage.promptTokens > 0 {
                    spend.measuredPrompt += Double(usage.promptTokens)
                    spend.approximatedPrompt += reservation.approximated
                }
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
