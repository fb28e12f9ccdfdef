import CCurl
import Foundation
import Synchronization

/// `curl_global_init` exactly once per process, before the first handle (Swift runs a `static let`
/// initializer once, thread-safely).
enum CurlGlobal {
    static let initialized: Bool = dsb_global_init_default() == CURLE_OK
}

/// The engine's single background thread: owns the multi handle, every easy handle and every in-flight
/// transfer. Other threads only touch `inbox` (under a mutex) and call `curl_multi_wakeup`, which libcurl
/// documents as thread-safe. Everything else is confined to the thread, hence `@unchecked Sendable`.
final class CurlMultiLoop: @unchecked Sendable {
    struct Limits {
        var maxTotal: Int
        var maxPerHost: Int
        var perHost: [String: Int]
        func limit(for hostKey: String) -> Int { max(1, perHost[hostKey] ?? maxPerHost) }
    }

    private struct Inbox {
        var added: [CurlTransfer] = []
        var cancelled: [UInt64] = []
        var stopping = false
    }

    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex(Inbox())
    private let limits: Limits
    private let userAgent: String
    private let multiplex: Bool
    private let maxIdleHandles: Int

    // Thread-confined state.
    private var pending: [CurlTransfer] = []
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var activePerHost: [String: Int] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []

    init(limits: Limits, userAgent: String, multiplex: Bool, maxIdleHandles: Int) {
        precondition(CurlGlobal.initialized, "curl_global_init failed")
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed (out of memory)") }
        self.multi = multi
        self.limits = limits
        self.userAgent = userAgent
        self.multiplex = multiplex
        self.maxIdleHandles = maxIdleHandles
        _ = dsb_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, limits.maxTotal)
        _ = dsb_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, limits.maxPerHost)
        _ = dsb_multi_setopt_long(multi, CURLMOPT_PIPELINING, multiplex ? dsb_pipe_multiplex() : 0)
        // Keep enough idle connections cached for every host we may talk to at full concurrency.
        _ = dsb_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(limits.maxTotal, 16))
    }

    deinit {
        // Only reached after `run` returned and no other thread holds the loop: safe to free.
        curl_multi_cleanup(multi)
    }

    func start() {
        let thread = Thread { [self] in self.run() }
        thread.name = "dsbuild.http"
        thread.start()
    }

    // MARK: Any thread

    /// Queues a transfer; fails it at once when the engine is stopping.
    func submit(_ transfer: CurlTransfer) {
        let accepted = inbox.withLock { inbox -> Bool in
            guard !inbox.stopping else { return false }
            inbox.added.append(transfer)
            return true
        }
        if accepted {
            curl_multi_wakeup(multi)
        } else {
            transfer.resume(with: .failure(HTTPError(.cancelled, url: transfer.request.url, detail: "the HTTP engine was shut down")))
        }
    }

    func cancel(_ id: UInt64) {
        inbox.withLock { $0.cancelled.append(id) }
        curl_multi_wakeup(multi)
    }

    func stop() {
        inbox.withLock { $0.stopping = true }
        curl_multi_wakeup(multi)
    }

    // MARK: Engine thread

    private func run() {
        var running: Int32 = 0
        while true {
            let (added, cancelled, stopping) = inbox.withLock { inbox in
                defer { inbox.added.removeAll(); inbox.cancelled.removeAll() }
                return (inbox.added, inbox.cancelled, inbox.stopping)
            }
            if stopping { break }
            for transfer in added {
                if transfer.cancelRequested.load(ordering: .acquiring) {
                    transfer.resume(with: .failure(HTTPError(.cancelled, url: transfer.request.url)))
                } else {
                    pending.append(transfer)
                }
            }
            for id in cancelled { cancelTransfer(id) }
            admit()

            curl_multi_perform(multi, &running)
            var finishedAny = false
            var remaining: Int32 = 0
            while let message = curl_multi_info_read(multi, &remaining) {
                guard dsb_msg_is_done(message) != 0, let easy = dsb_msg_easy(message) else { continue }
                finish(easy, code: dsb_msg_result(message))
                finishedAny = true
            }
            if finishedAny {
                admit()
                continue  // start the admitted transfers before sleeping
            }
            curl_multi_poll(multi, nil, 0, 1000, nil)
        }
        shutDownTransfers()
    }

    /// Moves pending transfers into the multi handle while the global and per-host limits allow, in order.
    /// Limits are enforced here, before curl sees a transfer, so a queued transfer's timeouts do not start
    /// running while it waits (curl would count them from `curl_multi_add_handle`).
    private func admit() {
        guard !pending.isEmpty, active.count < limits.maxTotal else { return }
        var kept: [CurlTransfer] = []
        kept.reserveCapacity(pending.count)
        for transfer in pending {
            let key = transfer.request.hostKey
            let inUse = activePerHost[key, default: 0]
            if active.count < limits.maxTotal, inUse < limits.limit(for: key) {
                start(transfer)
            } else {
                kept.append(transfer)
            }
        }
        pending = kept
    }

    private func start(_ transfer: CurlTransfer) {
        let easy: UnsafeMutableRawPointer
        if let reused = idleHandles.popLast() {
            easy = reused
        } else if let fresh = curl_easy_init() {
            easy = fresh
        } else {
            transfer.resume(with: .failure(HTTPError(.transport(curlCode: -1, message: "curl_easy_init failed"), url: transfer.request.url)))
            return
        }
        if let error = transfer.configure(easy, userAgent: userAgent, multiplex: multiplex) {
            recycle(easy)
            transfer.resume(with: .failure(error))
            return
        }
        let code = curl_multi_add_handle(multi, easy)
        guard code == CURLM_OK else {
            recycle(easy)
            transfer.resume(with: .failure(HTTPError(.transport(curlCode: Int(code.rawValue), message: String(cString: curl_multi_strerror(code))), url: transfer.request.url)))
            return
        }
        active[easy] = transfer
        activePerHost[transfer.request.hostKey, default: 0] += 1
    }

    private func finish(_ easy: UnsafeMutableRawPointer, code: CURLcode) {
        guard let transfer = detach(easy) else { return }
        let result = transfer.result(for: code)
        transfer.easy = nil
        recycle(easy)
        transfer.resume(with: result)
    }

    private func detach(_ easy: UnsafeMutableRawPointer) -> CurlTransfer? {
        guard let transfer = active.removeValue(forKey: easy) else { return nil }
        curl_multi_remove_handle(multi, easy)
        let key = transfer.request.hostKey
        activePerHost[key, default: 1] -= 1
        if activePerHost[key] == 0 { activePerHost[key] = nil }
        return transfer
    }

    private func cancelTransfer(_ id: UInt64) {
        if let index = pending.firstIndex(where: { $0.id == id }) {
            let transfer = pending.remove(at: index)
            transfer.resume(with: .failure(HTTPError(.cancelled, url: transfer.request.url)))
            return
        }
        guard let (easy, _) = active.first(where: { $0.value.id == id }), let transfer = detach(easy) else { return }
        transfer.easy = nil
        recycle(easy)  // removing an unfinished transfer closes its connection
        transfer.resume(with: .failure(HTTPError(.cancelled, url: transfer.request.url)))
    }

    /// Resets a handle and keeps it for the next transfer (its DNS and TLS session caches survive a reset).
    private func recycle(_ easy: UnsafeMutableRawPointer) {
        if idleHandles.count < maxIdleHandles {
            curl_easy_reset(easy)
            idleHandles.append(easy)
        } else {
            curl_easy_cleanup(easy)
        }
    }

    private func shutDownTransfers() {
        let leftovers = inbox.withLock { inbox in
            defer { inbox.added.removeAll() }
            return inbox.added
        }
        for transfer in pending + leftovers {
            transfer.resume(with: .failure(HTTPError(.cancelled, url: transfer.request.url, detail: "the HTTP engine was shut down")))
        }
        pending.removeAll()
        for easy in Array(active.keys) {
            if let transfer = detach(easy) {
                transfer.easy = nil
                transfer.resume(with: .failure(HTTPError(.cancelled, url: transfer.request.url, detail: "the HTTP engine was shut down")))
            }
            curl_easy_cleanup(easy)
        }
        for easy in idleHandles { curl_easy_cleanup(easy) }
        idleHandles.removeAll()
    }
}
