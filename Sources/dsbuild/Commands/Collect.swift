import ArgumentParser
import Collect
import Dataset
import Foundation

extension DSBuild {
    /// `dsbuild collect`: keywords → candidates from sources → downloaded, hashed, probed images.
    struct Collect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keywords → candidate images from sources → downloaded, hashed, probed.",
            discussion: """
                Searches every keyword in each source, then downloads every candidate not yet downloaded. Killing it
                and running it again downloads only what is missing. Transient failures (429, 5xx, timeouts) are
                retried on the next run; permanent ones (404, not an image, robots.txt) are not.
                """)

        @OptionGroup var options: GlobalOptions

        @Option(help: "A keyword file to add first (TXT, CSV/TSV with a `keyword` header, or JSONL).")
        var keywords: String?

        @Option(help: "Comma-separated sources: \(ImageSources.names.joined(separator: ", ")).")
        var sources: String?

        @Option(help: "Candidates per keyword and source (after the licence filter).")
        var perKeyword: Int?

        @Option(help: "Accepted licences, comma-separated (cc0,pdm,cc-by,cc-by-sa,…); `any` accepts everything.")
        var licenses: String?

        @Option(help: "Downloads in flight over all hosts.")
        var concurrency: Int?

        @Option(help: "Downloads in flight per host.")
        var perHost: Int?

        @Option(help: "The input of the `urls` source (CSV/TSV/JSONL/parquet URL list) or the `directory` source (a folder).")
        var sourceFile: String?

        @Option(help: "The URL column of a URL list (default `url`).")
        var urlColumn: String?

        @Option(help: "The caption column of a URL list (default `caption`).")
        var captionColumn: String?

        @Option(help: "The keyword column of a URL list; without it every row gets --keyword.")
        var keywordColumn: String?

        @Option(help: "The keyword of URL-list rows without a keyword column, or of files directly in a folder.")
        var keyword: String?

        @Option(help: "Attempts per image (the first included).")
        var maxAttempts: Int?

        @Option(help: "Total timeout per download, in seconds.")
        var timeout: Double?

        @Option(help: "A contact (URL or e-mail) for the User-Agent: dsbuild/<version> (+contact).")
        var contact: String?

        @Option(name: .customLong("allow-host"),
                help: "Let remote sources connect to this loopback/private address: host[:port] or CIDR (repeatable; adds to collect.allow_hosts).")
        var allowHosts: [String] = []

        @Flag(help: "Search only: record candidates, download nothing.")
        var searchOnly = false

        func validate() throws {
            _ = try sources.map { try CommaList.parse($0, option: "--sources") }
            try Self.checkSources(sourceNames ?? [])
            if let licenses, let problem = LicenseFilter.rule.problem(strings: [licenses]) { throw ValidationError("--licenses \(problem)") }
            if !allowHosts.isEmpty, let problem = DownloadSettings.allowHostsRule.problem(strings: allowHosts) {
                throw ValidationError("--allow-host \(problem)")
            }
            _ = try perKeyword.map { try CollectSettings.perKeywordRule.checked($0, "--per-keyword") }
            _ = try concurrency.map { try DownloadSettings.concurrencyRule.checked($0, "--concurrency") }
            _ = try perHost.map { try DownloadSettings.concurrencyRule.checked($0, "--per-host") }
            _ = try maxAttempts.map { try DownloadSettings.maxAttemptsRule.checked($0, "--max-attempts") }
            _ = try timeout.map { try DownloadSettings.timeoutRule.checked($0, "--timeout") }
            _ = try contact.map { try ValueRule.headerText.checked($0, "--contact") }
        }

        /// A usage error naming the first source no `RegisteredSource` declares.
        static func checkSources(_ names: [String]) throws {
            for name in names where ImageSources.named(name) == nil {
                throw ValidationError("unknown source `\(name)`; use \(ImageSources.names.joined(separator: ", "))")
            }
        }

        /// `--sources` as a list, a source named twice searched once.
        var sourceNames: [String]? {
            var seen = Set<String>()
            return sources?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && seen.insert($0).inserted }
        }

        func run() async throws {
            let context = try CommandContext.open(options, command: "collect")
            let settings = try makeSettings(context)
            var keywordErrors = false
            if let keywords {
                let result = try KeywordFileReader().read(contentsOf: URL(fileURLWithPath: keywords))
                for error in result.errors { Output.error(error.description) }
                keywordErrors = !result.errors.isEmpty
                try KeywordStore.insert(result.keywords, into: context.workspace.manifest)
            }
            let collector = Collector(workspace: context.workspace, settings: settings,
                                      logger: context.logger)
            let runner = context.runner
            let summary = try await Interruption.cancellable { try await collector.run(runner: runner) }
            for problem in summary.problems { Output.warning(problem) }
            print(summary: summary)
            try Interruption.exitIfInterrupted("collect")
            if summary.failed || keywordErrors { throw ExitCode(1) }
        }

        /// Defaults ← recipe ← options; `validate()` checked each option by the rule its recipe key declares.
        func makeSettings(_ context: CommandContext) throws -> CollectSettings {
            var settings = CollectSettings(recipe: context.recipe)
            if let sourceNames { settings.sources = sourceNames }
            try Self.checkSources(settings.sources)  // the recipe's (the options' were checked in `validate()`)
            if settings.sources.isEmpty {
                Output.warning("no source is searched (every source the recipe names is switched off, or --sources names none); only candidates found before are downloaded")
            }
            if let perKeyword { settings.setPerKeywordForEverySource(perKeyword) }
            if let licenses { settings.licenses = try LicenseFilter(parsing: [licenses]) }
            if let concurrency { settings.download.concurrency = concurrency }
            if let perHost { settings.download.perHost = perHost }
            if let maxAttempts { settings.download.maxAttempts = maxAttempts }
            if let timeout { settings.download.totalTimeout = timeout }
            if let contact { settings.download.userAgentContact = contact }
            settings.download.allowHosts += allowHosts
            settings.searchOnly = searchOnly
            // --source-file is relative to the current folder (the recipe's `file`/`path` to the recipe's).
            let input = sourceFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            if settings.sources.contains(URLListSource.sourceName) {
                var o = settings[URLListSource.self]
                if let input { o.file = input }
                if let urlColumn { o.urlColumn = urlColumn }
                if let captionColumn { o.captionColumn = captionColumn }
                if let keywordColumn { o.keywordColumn = keywordColumn }
                if let keyword { o.keyword = keyword }
                settings[URLListSource.self] = o
            }
            if settings.sources.contains(DirectorySource.sourceName) {
                if let input { settings[DirectorySource.self].path = input }
                if let keyword { settings[DirectorySource.self].keyword = keyword }
            }
            return settings
        }

        func print(summary: CollectSummary) {
            let download = summary.download
            if options.json {
                var object: [String: Any] = [
                    "keywords_added": summary.keywordsAdded,
                    "searches": summary.search.pending,
                    "search_counts": summary.search.counts,
                    "input_problems": summary.problems.count,
                    "interrupted": summary.search.interrupted || (download?.interrupted ?? false),
                ]
                if let download {
                    object["downloads"] = download.pending
                    object["download_counts"] = download.counts
                    object["download_failures"] = download.failures
                    object["download_seconds"] = download.seconds
                    object["images_per_second"] = download.seconds > 0 ? Double(download.succeeded) / download.seconds : 0
                }
                Output.json(object)
                return
            }
            guard !options.quiet else { return }
            Swift.print("searched \(summary.search.pending) keyword×source pairs (\(summary.search.failures) failed)")
            if let download {
                let rate = download.seconds > 0 ? Double(download.succeeded) / download.seconds : 0
                Swift.print("downloaded \(download.succeeded)/\(download.pending) in \(String(format: "%.1f", download.seconds)) s (\(String(format: "%.1f", rate)) images/s)")
                for (key, count) in download.counts.sorted(by: { $0.key < $1.key }) {
                    Swift.print("  \(key): \(count)")
                }
            }
        }
    }
}
