import Foundation
import Glibc
import Synchronization

/// A tiny HTTP/1.1 server on 127.0.0.1 for tests, on raw POSIX sockets so that faults are exact: a reset is a
/// real RST, a truncated body is a real short read. One accept thread, one thread per connection, keep-alive.
/// It counts requests per path and concurrent connections so tests can assert what the client really did.
public final class LoopbackHTTPServer: Sendable {
    public struct StartError: Error, CustomStringConvertible {
        public var call: String
        public var errno: Int32
        public var description: String { "loopback server: \(call) failed: \(String(cString: strerror(errno)))" }
    }

    private struct State {
        var requestsPerPath: [String: Int] = [:]
        var bodyBytesSent: [String: Int] = [:]
        var openConnections = 0
        var maxOpenConnections = 0
        var connectionsAccepted = 0
        var inFlight = 0
        var maxInFlight = 0
        var connectionFDs: Set<Int32> = []
        var stopped = false
    }

    /// The port the kernel gave us.
    public let port: Int
    private let listenFD: Int32
    private let handler: @Sendable (LoopbackRequest) -> LoopbackResponse
    private let state = Mutex(State())
    private let acceptDone = Mutex(false)

    public init(handler: @escaping @Sendable (LoopbackRequest) -> LoopbackResponse) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StartError(call: "socket", errno: errno) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { let e = errno; close(fd); throw StartError(call: "bind", errno: e) }
        guard listen(fd, 256) == 0 else { let e = errno; close(fd); throw StartError(call: "listen", errno: e) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { let e = errno; close(fd); throw StartError(call: "getsockname", errno: e) }
        port = Int(UInt16(bigEndian: address.sin_port))
        listenFD = fd
        self.handler = handler
        let thread = Thread { [self] in self.acceptLoop() }
        thread.name = "loopback.accept"
        thread.start()
    }

    public convenience init(router: LoopbackRouter) throws {
        try self.init(handler: router.handler)
    }

    deinit { stop() }

    /// `http://127.0.0.1:<port><path>`.
    public func url(_ path: String) -> URL {
        URL(string: "http://127.0.0.1:\(port)\(path.hasPrefix("/") ? path : "/" + path)")!
    }

    /// Requests received for `path` (query ignored).
    public func requestCount(_ path: String) -> Int { state.withLock { $0.requestsPerPath[path, default: 0] } }
    public var totalRequests: Int { state.withLock { $0.requestsPerPath.values.reduce(0, +) } }
    /// Body bytes the server managed to write for `path`.
    public func bodyBytesSent(_ path: String) -> Int { state.withLock { $0.bodyBytesSent[path, default: 0] } }
    /// The most connections open at the same time so far.
    public var maxConcurrentConnections: Int { state.withLock { $0.maxOpenConnections } }
    public var openConnections: Int { state.withLock { $0.openConnections } }
    public var connectionsAccepted: Int { state.withLock { $0.connectionsAccepted } }
    /// The most requests being handled/answered at the same time so far.
    public var maxConcurrentRequests: Int { state.withLock { $0.maxInFlight } }

    /// Stops accepting and breaks every open connection; threads exit on their own.
    public func stop() {
        let first = state.withLock { state -> Bool in
            defer { state.stopped = true }
            for fd in state.connectionFDs { shutdown(fd, Int32(SHUT_RDWR)) }
            return !state.stopped
        }
        if first { shutdown(listenFD, Int32(SHUT_RDWR)) }
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    // MARK: Accepting

    private func acceptLoop() {
        while true {
            let fd = accept(listenFD, nil, nil)
            if fd < 0 {
                if errno == EINTR, !isStopped { continue }
                break
            }
            let number = state.withLock { state -> Int? in
                guard !state.stopped else { return nil }
                state.connectionFDs.insert(fd)
                state.openConnections += 1
                state.maxOpenConnections = max(state.maxOpenConnections, state.openConnections)
                state.connectionsAccepted += 1
                return state.connectionsAccepted
            }
            guard let number else { close(fd); break }
            var yes: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
            let thread = Thread { [self] in self.serve(connection: fd, number: number) }
            thread.name = "loopback.conn.\(number)"
            thread.start()
        }
        close(listenFD)
    }

    // MARK: One connection

    private func serve(connection fd: Int32, number: Int) {
        var reader = Reader(fd: fd)
        var index = 0
        while let request = reader.readRequest(connectionNumber: number, index: index + 1) {
            index += 1
            state.withLock { state in
                state.requestsPerPath[request.path, default: 0] += 1
                state.inFlight += 1
                state.maxInFlight = max(state.maxInFlight, state.inFlight)
            }
            let response = handler(request)
            let keepAlive = write(response, for: request, to: fd)
            state.withLock { $0.inFlight -= 1 }
            if !keepAlive { break }
        }
        state.withLock { state in
            state.connectionFDs.remove(fd)
            close(fd)
            state.openConnections -= 1
        }
    }

    /// Sends `response` (with its scripted faults). Returns whether the connection stays open.
    private func write(_ response: LoopbackResponse, for request: LoopbackRequest, to fd: Int32) -> Bool {
        if let delay = response.delayBeforeHeaders, !sleep(delay) { return false }
        switch response.fault {
        case .resetBeforeResponse?:
            resetOnClose(fd)
            return false
        case .closeWithoutResponse?:
            return false
        default:
            break
        }

        var close = response.closeAfter || request.header("Connection")?.lowercased() == "close"
        var head = "HTTP/1.1 \(response.status) \(response.reason ?? Self.reasonPhrase(response.status))\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        let body = request.method == "HEAD" ? Data() : response.body
        switch response.framing {
        case .contentLength:
            head += "Content-Length: \(response.body.count)\r\n"
        case .declaredLength(let declared):
            head += "Content-Length: \(declared)\r\n"
            if declared > body.count { close = true }
        case .chunked:
            head += "Transfer-Encoding: chunked\r\n"
        case .untilClose:
            close = true
        }
        head += close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n"
        guard sendAll(fd, Data(head.utf8)) else { return false }

        var limit = body.count
        if case .resetMidBody(let after)? = response.fault { limit = min(after, body.count) }
        var piece = response.pacing?.bytes ?? max(limit, 1)
        if case .chunked(let size) = response.framing { piece = min(piece, max(size, 1)) }
        var offset = 0
        while offset < limit {
            let end = min(offset + piece, limit)
            var bytes = body.subdata(in: offset..<end)
            if case .chunked = response.framing {
                bytes = Data(String(bytes.count, radix: 16).utf8) + Data("\r\n".utf8) + bytes + Data("\r\n".utf8)
            }
            guard sendAll(fd, bytes) else { return false }
            state.withLock { $0.bodyBytesSent[request.path, default: 0] += end - offset }
            offset = end
            if offset < limit, let pacing = response.pacing, !sleep(pacing.interval) { return false }
        }
        if case .resetMidBody? = response.fault {
            resetOnClose(fd)
            return false
        }
        if case .chunked = response.framing, request.method != "HEAD" {
            guard sendAll(fd, Data("0\r\n\r\n".utf8)) else { return false }
        }
        return !close
    }

    private func sendAll(_ fd: Int32, _ data: Data) -> Bool {
        data.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count {
                let n = send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
                if n < 0, errno == EINTR { continue }
                if n <= 0 { return false }
                sent += n
            }
            return true
        }
    }

    /// Makes the coming close() send RST instead of FIN.
    private func resetOnClose(_ fd: Int32) {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
    }

    /// Sleeps in small slices; false when the server was stopped meanwhile.
    private func sleep(_ duration: Duration) -> Bool {
        let end = ContinuousClock.now + duration
        while ContinuousClock.now < end {
            if isStopped { return false }
            let left = end - ContinuousClock.now
            let slice = min(left, .milliseconds(10))
            let (s, atto) = slice.components
            usleep(useconds_t(max(0, s * 1_000_000 + atto / 1_000_000_000_000)))
        }
        return !isStopped
    }

    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 204: "No Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 408: "Request Timeout"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status"
        }
    }
}

/// Reads requests off one connection: request line, headers, `Content-Length` body.
private struct Reader {
    let fd: Int32
    var buffer = Data()

    init(fd: Int32) { self.fd = fd }

    private mutating func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return false }
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }
    }

    mutating func readRequest(connectionNumber: Int, index: Int) -> LoopbackRequest? {
        let separator = Data("\r\n\r\n".utf8)
        var headEnd: Range<Data.Index>?
        while true {
            headEnd = buffer.range(of: separator)
            if headEnd != nil { break }
            guard buffer.count < 1 << 20, fill() else { return nil }
        }
        guard let headEnd else { return nil }
        let headText = String(decoding: buffer[buffer.startIndex..<headEnd.lowerBound], as: UTF8.self)
        buffer = Data(buffer[headEnd.upperBound...])
        var lines = headText.components(separatedBy: "\r\n")
        guard !lines.isEmpty else { return nil }
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((line[..<colon].trimmingCharacters(in: .whitespaces),
                            line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        let length = headers.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
        while buffer.count < length {
            guard fill() else { return nil }
        }
        let body = Data(buffer.prefix(length))
        buffer = Data(buffer.dropFirst(length))
        let target = String(requestLine[1])
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        return LoopbackRequest(
            method: String(requestLine[0]), target: target, path: String(parts[0]),
            query: parts.count > 1 ? String(parts[1]) : nil, headers: headers, body: body,
            indexOnConnection: index, connectionNumber: connectionNumber)
    }
}
