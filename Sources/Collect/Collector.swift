import Dataset
import Foundation
import HTTP
import Logging

/// What one `dsbuild collect` run did.
public struct CollectSummary: Sendable {
    public var keywordsAdded = 0
    public var search: StageSummary
    public var download: StageSummary?
    /// Input lines that could not be read (URL list rows…), as `file:line: message`.
    public var problems: [String] = []

    public var failed: Bool { search.failures > 0 || (download?.failures ?? 0) > 0 || !problems.isEmpty }
}

/// Runs collect: the search stage (keyword × source → candidates), then the download stage (candidate → image),
/// both through the shared `StageRunner`, so both resume from the manifest.
public struct Collector: Sendable {
    public let workspace: Workspace
    public let settings: CollectSettings
    public let logger: Logger
    let environment: [String: String]

    public init(workspace: Workspace, settings: CollectSettings, logger: Logger,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.workspace = workspace
        self.settings = settings
        self.logger = logger
        self.environment = environment
    }

    /// The engine collect uses: its limits, the polite User-Agent, ≤ 2 connections to upload.wikimedia.org, and
    /// no connection to a loopback, private, link-local, multicast or unspecified address but what
    /// `collect.allow_hosts` names (every source here is remote; the directory source reads files, not URLs).
    public func makeEngine() throws -> HTTPEngine {
        let d = settings.download
        let policy: AddressPolicy
        do {
            policy = try AddressPolicy.publicOnly(allowing: d.allowHosts)
        } catch {
            throw CollectError(.invalidSetting, item: "collect.allow_hosts", detail: error.description)
        }
        return HTTPEngine(configuration: .init(
            userAgent: d.userAgent, maxTotalConnections: max(d.concurrency, 1), maxConnectionsPerHost: max(d.perHost, 1),
            hostLimits: ["https://upload.wikimedia.org:443": min(2, max(d.perHost, 1))], addressPolicy: policy))
    }

    public func run(runner: StageRunner) async throws -> CollectSummary {
        var sources: [any ImageSource] = []
        for name in settings.sources {
            sources.append(try settings.makeSource(name, environment: environment))
        }
        let problems = sources.flatMap(\.problems)
        let engine = try makeEngine()
        defer { engine.shutdown() }
        var rates: [String: Double] = [:]
        for name in settings.sources {
            guard let api = settings.api[name], let rate = api.requestsPerMinute else { continue }
            rates[api.baseURL] = rate
        }
        let fetcher = EngineJSONFetcher(engine: engine, retry: settings.download.retryPolicy, rates: rates)
        let context = SourceContext(fetcher: fetcher, licenses: settings.licenses, logger: logger)
        let search = SearchStage(sources: sources, perKeyword: settings.perKeyword,
                                 perSource: settings.api.compactMapValues(\.perKeyword), context: context)
        // What each run applied (recipe and options), for the run record; API keys are never settings.
        let record = settings.recordJSON
        var summary = CollectSummary(search: StageSummary(stage: "search"), problems: problems)
        summary.keywordsAdded = try search.addDeclaredKeywords(to: workspace.manifest)
        summary.search = try await runner.run(search, concurrency: settings.searchConcurrency, settingsJSON: record)
        if settings.searchOnly || summary.search.interrupted { return summary }
        let downloads = DownloadStage(workspace: workspace,
                                      http: HTTPImageFetcher(engine: engine, settings: settings.download))
        downloads.removeStaleTemporaryFiles()
        summary.download = try await runner.run(downloads, concurrency: settings.download.concurrency, settingsJSON: record)
        return summary
    }
}
