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
    private let transferOptions: CurlTransfer.EngineOptions
    private let maxIdleHandles: Int

    // Thread-confined state.
    /// Transfers waiting for room, one FIFO per host key; `hostOrder` lists hosts with waiting transfers.
    private var queues: [String: TransferQueue] = [:]
    private var hostOrder: [String] = []
    private var nextHost = 0
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var activePerHost: [String: Int] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []

    init(limits: Limits, transferOptions: CurlTransfer.EngineOptions, maxIdleHandles: Int) {
        precondition(CurlGlobal.initialized, "curl_global_init failed")
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed (out of memory)") }
        self.multi = multi
        self.limits = limits
        self.transferOptions = transferOptions
        self.maxIdleHandles = maxIdleHandles
        _ = dsb_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, limits.maxTotal)
        // The engine admits transfers per host key itself; curl's own cap is only a backstop and must not be
        // tighter than any per-host override.
        _ = dsb_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max(limits.maxPerHost, limits.perHost.values.max() ?? 0))
        _ = dsb_multi_setopt_long(multi, CURLMOPT_PIPELINING, transferOptions.multiplex ? dsb_pipe_multiplex() : 0)
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
            for transfer in added {
                if transfer.cancelRequested.load(ordering: .acquiring) {
                    transfer.resume(with: .failure(HTTPError(.cancelled, url: transfer.request.url)))
                } else {
                    enqueue(transfer)
                }
            }
            if stopping { break }  // everything queued or running is failed below
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

    private func enqueue(_ transfer: CurlTransfer) {
        let key = transfer.hostKey
        if queues[key] == nil {
            queues[key] = TransferQueue()
            hostOrder.append(key)
        }
        queues[key]!.push(transfer)
    }

    /// Moves waiting transfers into the multi handle while the global and per-host limits allow: FIFO within a
    /// host, hosts taken in turn so one busy host cannot starve the others. Limits are enforced here, before
    /// curl sees a transfer, so a queued transfer's timeouts do not run while it waits (curl counts them from
    /// `curl_multi_add_handle`). Cost is per host with waiting work, not per waiting transfer.
    private func admit() {
        guard !hostOrder.isEmpty else { return }
        var emptied: Set<String> = []
        let count = hostOrder.count
        for step in 0..<count {
            guard active.count < limits.maxTotal else { break }
            let key = hostOrder[(nextHost + step) % count]
            let limit = limits.limit(for: key)
            while active.count < limits.maxTotal, activePerHost[key, default: 0] < limit,
                  let transfer = queues[key]?.pop() {
                start(transfer)
            }
            if queues[key]?.isEmpty ?? true { emptied.insert(key) }
        }
        nextHost = (nextHost + 1) % count
        if !emptied.isEmpty {
            hostOrder.removeAll { emptied.contains($0) }
            for key in emptied { queues[key] = nil }
            nextHost = hostOrder.isEmpty ? 0 : nextHost % hostOrder.count
        }
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
        if let error = transfer.configure(easy, options: transferOptions) {
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
        activePerHost[transfer.hostKey, default: 0] += 1
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
        let key = transfer.hostKey
        activePerHost[key, default: 1] -= 1
        if activePerHost[key] == 0 { activePerHost[key] = nil }
        return transfer
    }

    private func cancelTransfer(_ id: UInt64) {
        for key in hostOrder {
            if let transfer = queues[key]?.remove(id: id) {
                transfer.resume(with: .failure(HTTPError(.cancelled, url: transfer.request.url)))
                return
            }
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
        var waiting = leftovers
        for key in hostOrder {
            while let transfer = queues[key]?.pop() { waiting.append(transfer) }
        }
        queues.removeAll()
        hostOrder.removeAll()
        for transfer in waiting {
            transfer.resume(with: .failure(HTTPError(.cancelled, url: transfer.request.url, detail: "the HTTP engine was shut down")))
        }
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

/// A FIFO with O(1) push and pop (an array and a head index, compacted when half is consumed). Cancelled
/// entries become holes that `pop` skips.
struct TransferQueue {
    private var items: [CurlTransfer?] = []
    private var head = 0

    var isEmpty: Bool { head == items.count }

    mutating func push(_ transfer: CurlTransfer) { items.append(transfer) }

    mutating func pop() -> CurlTransfer? {
        while head < items.count {
            let item = items[head]
            items[head] = nil
            head += 1
            if head > 64, head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            if let item { return item }
        }
        return nil
    }

    /// Takes out the transfer with `id` (a cancellation while it waits).
    mutating func remove(id: UInt64) -> CurlTransfer? {
        guard let index = items[head...].firstIndex(where: { $0?.id == id }) else { return nil }
        let item = items[index]
        items[index] = nil
        return item
    }
}
