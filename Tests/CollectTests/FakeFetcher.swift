@testable import Collect
import Foundation
import Logging
import Synchronization

/// Answers source API requests from canned JSON by path, and records every URL asked for.
final class FakeFetcher: JSONFetching {
    private let handler: @Sendable (URLComponents) -> FetchedResponse
    private let log = Mutex<[URL]>([])

    init(_ handler: @escaping @Sendable (URLComponents) -> FetchedResponse) {
        self.handler = handler
    }

    func get(_ url: URL) async throws -> FetchedResponse {
        log.withLock { $0.append(url) }
        return handler(URLComponents(url: url, resolvingAgainstBaseURL: false)!)
    }

    var requested: [URLComponents] { log.withLock { $0 }.map { URLComponents(url: $0, resolvingAgainstBaseURL: false)! } }

    static func json(_ object: Any, status: Int = 200, headers: [String: String] = [:]) -> FetchedResponse {
        FetchedResponse(status: status, headers: headers, body: try! JSONSerialization.data(withJSONObject: object))
    }
}

extension URLComponents {
    func value(_ name: String) -> String? { queryItems?.first { $0.name == name }?.value }
}

/// Waits a source asked for, recorded instead of slept.
final class WaitLog: Sendable {
    private let waits = Mutex<[Double]>([])
    func append(_ seconds: Double) { waits.withLock { $0.append(seconds) } }
    var all: [Double] { waits.withLock { $0 } }
}

/// A context whose waits are recorded instead of slept.
func sourceContext(_ fetcher: FakeFetcher, licenses: LicenseFilter = .openDefault, waits: WaitLog? = nil) -> SourceContext {
    SourceContext(fetcher: fetcher, licenses: licenses, logger: Logger(label: "test"),
                  sleep: { seconds in waits?.append(seconds) })
}
