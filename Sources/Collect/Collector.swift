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
        // A list is read into the manifest a batch at a time (`ListStage`); the other sources answer per keyword.
        let lists = sources.compactMap { $0 as? any ListingSource }
        let searched = sources.filter { !($0 is any ListingSource) }
        let record = settings.recordJSON
        var summary = CollectSummary(search: StageSummary(stage: "search"), problems: searched.flatMap(\.problems))
        for list in lists {
            let read = try await runner.run(ListStage(source: list, licenses: settings.licenses), settingsJSON: record)
            summary.fold(read)
            if summary.search.interrupted { return summary }
        }
        let engine = try makeEngine()
        defer { engine.shutdown() }
        var rates: [String: Double] = [:]
        for name in settings.sources {
            guard let api = settings.api[name], let rate = api.requestsPerMinute else { continue }
            rates[api.baseURL] = rate
        }
        let fetcher = EngineJSONFetcher(engine: engine, retry: settings.download.retryPolicy, rates: rates)
        let context = SourceContext(fetcher: fetcher, licenses: settings.licenses, logger: logger)
        if !searched.isEmpty || lists.isEmpty {
            let search = SearchStage(sources: searched, perKeyword: settings.perKeyword,
                                     perSource: settings.api.compactMapValues(\.perKeyword), context: context)
            summary.keywordsAdded += try search.addDeclaredKeywords(to: workspace.manifest)
            let answered = try await runner.run(search, concurrency: settings.searchConcurrency, settingsJSON: record)
            summary.search.pending += answered.pending
            summary.search.failures += answered.failures
            summary.search.interrupted = summary.search.interrupted || answered.interrupted
            summary.search.seconds += answered.seconds
            summary.search.counts.merge(answered.counts, uniquingKeysWith: +)
        }
        if settings.searchOnly || summary.search.interrupted { return summary }
        let downloads = DownloadStage(workspace: workspace,
                                      http: HTTPImageFetcher(engine: engine, settings: settings.download))
        downloads.removeStaleTemporaryFiles()
        summary.download = try await runner.run(downloads, concurrency: settings.download.concurrency, settingsJSON: record)
        return summary
    }
}

extension CollectSummary {
    /// Adds a list's read to the search summary: the keywords it searched count as keyword × source searches done,
    /// its bad rows as input problems.
    mutating func fold(_ read: WholeSetOutcome<ListStage.Result>) {
        if let result = read.result {
            keywordsAdded += result.keywordsAdded
            search.pending += result.searched
            search.counts["ok", default: 0] += result.searched
            problems += result.problems
        }
        search.interrupted = search.interrupted || read.summary.interrupted
        search.seconds += read.summary.seconds
    }
}
