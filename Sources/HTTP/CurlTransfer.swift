import CCurl
import Foundation
import Synchronization

/// One request from `perform` to its result. Created on the caller's thread; once submitted, everything but
/// `cancelRequested` is read and written only on the engine thread (curl callbacks run there too), which is
/// why the class is `@unchecked Sendable`.
final class CurlTransfer: @unchecked Sendable {
    let id: UInt64
    let request: HTTPRequest
    let sink: (any HTTPBodySink)?
    /// `request.hostKey`, computed once.
    let hostKey: String
    private let continuation: CheckedContinuation<Result<HTTPResponse, HTTPError>, Never>
    /// Set by the cancellation handler on any thread; checked by the engine thread.
    let cancelRequested: Atomic<Bool>

    // Engine-thread state.
    var easy: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var resolveList: UnsafeMutablePointer<curl_slist>?
    /// The engine's address policy, checked by the open-socket callback on every connection.
    private var addressPolicy = AddressPolicy.any
    /// The last connection the policy refused ("10.0.0.1:80 is a private address"): curl then fails with
    /// CURLE_COULDNT_CONNECT unless another address of the host was allowed.
    private(set) var refusedAddress: String?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private var body = Data()
    private var blockStatus = 0
    private var blockVersion = ""
    private var blockHeaders = HTTPHeaders()
    private var blockEnded = false
    private var finalHead: HTTPResponseHead?
    private var bodyBytes = 0
    /// Why a callback stopped the transfer (curl then reports CURLE_WRITE_ERROR).
    private var stopReason: HTTPError.Code?
    private var resumed = false

    init(
        id: UInt64, request: HTTPRequest, sink: (any HTTPBodySink)?,
        continuation: CheckedContinuation<Result<HTTPResponse, HTTPError>, Never>
    ) {
        self.id = id
        self.request = request
        self.sink = sink
        self.hostKey = request.hostKey
        self.continuation = continuation
        self.cancelRequested = Atomic(false)
        let size = Int(dsb_error_size())
        errorBuffer = .allocate(capacity: size)
        errorBuffer.initialize(repeating: 0, count: size)
    }

    deinit {
        errorBuffer.deallocate()
        if let headerList { curl_slist_free_all(headerList) }
        if let resolveList { curl_slist_free_all(resolveList) }
    }

    // MARK: Setup

    /// What the engine sets on every transfer.
    struct EngineOptions {
        var userAgent: String
        var multiplex: Bool
        var proxy: HTTPEngine.Proxy
        var caBundle: String?
        var addressPolicy: AddressPolicy = .any
    }

    /// Sets every option on a fresh (or reset) easy handle. Returns an error when curl refuses one.
    func configure(_ easy: UnsafeMutableRawPointer, options: EngineOptions) -> HTTPError? {
        let userAgent = options.userAgent
        let multiplex = options.multiplex
        self.easy = easy
        let r = request
        var failed: (String, CURLcode)?
        func check(_ name: String, _ code: CURLcode) {
            if code != CURLE_OK, failed == nil { failed = (name, code) }
        }
        check("URL", dsb_easy_setopt_str(easy, CURLOPT_URL, r.url.absoluteString))
        check("PROTOCOLS_STR", dsb_easy_setopt_str(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        check("REDIR_PROTOCOLS_STR", dsb_easy_setopt_str(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"))
        check("NOSIGNAL", dsb_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        check("TCP_KEEPALIVE", dsb_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1))
        // With an environment proxy, the CONNECT response must not look like the server's response.
        check("SUPPRESS_CONNECT_HEADERS", dsb_easy_setopt_long(easy, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1))
        check("ERRORBUFFER", dsb_easy_setopt_ptr(easy, CURLOPT_ERRORBUFFER, errorBuffer))
        check("USERAGENT", dsb_easy_setopt_str(easy, CURLOPT_USERAGENT, userAgent))
        if let caBundle = options.caBundle { check("CAINFO", dsb_easy_setopt_str(easy, CURLOPT_CAINFO, caBundle)) }
        switch options.proxy {
        case .environment: break
        case .direct: check("PROXY", dsb_easy_setopt_str(easy, CURLOPT_PROXY, ""))  // "" disables env proxies
        case .url(let proxy): check("PROXY", dsb_easy_setopt_str(easy, CURLOPT_PROXY, proxy))
        }
        if r.acceptCompressed { check("ACCEPT_ENCODING", dsb_easy_setopt_str(easy, CURLOPT_ACCEPT_ENCODING, "")) }
        check("FOLLOWLOCATION", dsb_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, r.maxRedirects > 0 ? 1 : 0))
        check("MAXREDIRS", dsb_easy_setopt_long(easy, CURLOPT_MAXREDIRS, max(r.maxRedirects, 0)))
        check("CONNECTTIMEOUT_MS", dsb_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, r.connectTimeout.curlMilliseconds))
        if let total = r.totalTimeout {
            check("TIMEOUT_MS", dsb_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, total.curlMilliseconds))
        }
        if let limit = r.lowSpeedLimit, limit > 0 {
            check("LOW_SPEED_LIMIT", dsb_easy_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, limit))
            check("LOW_SPEED_TIME", dsb_easy_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, lowSpeedSeconds))
        }
        if multiplex {
            check("HTTP_VERSION", dsb_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, dsb_http_version_2tls()))
            // Wait for a connection being set up to learn whether it multiplexes (only meaningful over TLS).
            if r.url.scheme?.lowercased() == "https" { check("PIPEWAIT", dsb_easy_setopt_long(easy, CURLOPT_PIPEWAIT, 1)) }
        } else {
            check("HTTP_VERSION", dsb_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1))
        }

        let method = r.method.uppercased()
        if let body = r.body {
            check("POSTFIELDSIZE_LARGE", dsb_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            body.withUnsafeBytes { raw in
                check("COPYPOSTFIELDS", dsb_easy_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: raw.baseAddress ?? UnsafeRawPointer(errorBuffer))))
            }
            if method != "POST" { check("CUSTOMREQUEST", dsb_easy_setopt_str(easy, CURLOPT_CUSTOMREQUEST, method)) }
        } else if method == "HEAD" {
            check("NOBODY", dsb_easy_setopt_long(easy, CURLOPT_NOBODY, 1))
        } else if method == "GET" {
            check("HTTPGET", dsb_easy_setopt_long(easy, CURLOPT_HTTPGET, 1))
        } else {
            check("CUSTOMREQUEST", dsb_easy_setopt_str(easy, CURLOPT_CUSTOMREQUEST, method))
        }

        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in r.headers {
            list = curl_slist_append(list, value.isEmpty ? "\(name);" : "\(name): \(value)")
        }
        if r.body != nil { list = curl_slist_append(list, "Expect:") }  // no 100-continue round trip
        headerList = list
        if let list { check("HTTPHEADER", dsb_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list)) }

        if !r.resolve.isEmpty {
            var entries: UnsafeMutablePointer<curl_slist>?
            for entry in r.resolve { entries = curl_slist_append(entries, entry) }
            resolveList = entries
            check("RESOLVE", dsb_easy_setopt_slist(easy, CURLOPT_RESOLVE, entries))
        }

        let me = Unmanaged.passUnretained(self).toOpaque()
        addressPolicy = options.addressPolicy
        if addressPolicy.restrictsPrivate {
            check("OPENSOCKETFUNCTION", dsb_easy_setopt_opensocketcb(easy, CURLOPT_OPENSOCKETFUNCTION, curlOpenSocketCallback))
            check("OPENSOCKETDATA", dsb_easy_setopt_ptr(easy, CURLOPT_OPENSOCKETDATA, me))
        }
        check("WRITEFUNCTION", dsb_easy_setopt_datacb(easy, CURLOPT_WRITEFUNCTION, curlWriteCallback))
        check("WRITEDATA", dsb_easy_setopt_ptr(easy, CURLOPT_WRITEDATA, me))
        check("HEADERFUNCTION", dsb_easy_setopt_datacb(easy, CURLOPT_HEADERFUNCTION, curlHeaderCallback))
        check("HEADERDATA", dsb_easy_setopt_ptr(easy, CURLOPT_HEADERDATA, me))

        if let (name, code) = failed {
            return HTTPError(.transport(curlCode: Int(code.rawValue), message: "setting \(name): " + String(cString: curl_easy_strerror(code))), url: r.url)
        }
        return nil
    }

    private var lowSpeedSeconds: Int { max(1, Int(request.lowSpeedTime.seconds.rounded(.up))) }

    // MARK: Callbacks (engine thread)

    /// Opens the socket for a connection to `address`, or refuses (CURL_SOCKET_BAD, nothing sent) when the
    /// policy forbids it.
    fileprivate func openSocket(_ address: UnsafeMutablePointer<curl_sockaddr>) -> curl_socket_t {
        let raw = dsb_curl_sockaddr_addr(address)!
        guard let ip = IPAddress(sockaddr: raw) else { return dsb_socket_bad() }
        let port = IPAddress.port(of: raw)
        if let refusal = addressPolicy.refusal(ip, port: port) {
            refusedAddress = refusal
            return dsb_socket_bad()
        }
        let fd = socket(address.pointee.family, address.pointee.socktype, address.pointee.`protocol`)
        return fd >= 0 ? fd : dsb_socket_bad()
    }

    fileprivate func didReceiveHeaderLine(_ bytes: UnsafeRawBufferPointer) -> Bool {
        // Strip CR/LF as bytes: in Swift "\r\n" is one Character, so String suffix checks miss it.
        var end = bytes.count
        while end > 0, bytes[end - 1] == 0x0A || bytes[end - 1] == 0x0D { end -= 1 }
        let line = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<end]), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            // A new response starts: a redirect hop, a 1xx, or the final one.
            let parts = line.split(separator: " ", maxSplits: 2)
            blockVersion = parts.first.map { String($0.dropFirst(5)) } ?? ""
            blockStatus = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
            blockHeaders = HTTPHeaders()
            blockEnded = false
            return true
        }
        if line.isEmpty { return endOfHeaderBlock() }
        if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            blockHeaders.add(name, value)
        }
        return true
    }

    private func endOfHeaderBlock() -> Bool {
        // A second blank line without a new status line ends chunked trailers: not a new response.
        guard !blockEnded else { return true }
        blockEnded = true
        if (100..<200).contains(blockStatus) { return true }
        let follows = request.maxRedirects > 0 && (300..<400).contains(blockStatus) && blockStatus != 304
            && blockHeaders.contains("Location")
        if follows { return true }  // curl follows it (or fails with too many redirects)

        let head = HTTPResponseHead(status: blockStatus, headers: blockHeaders, httpVersion: blockVersion, url: currentURL())
        finalHead = head
        if let limit = request.maxBodyBytes, let length = head.contentLength, length > limit,
           request.method.uppercased() != "HEAD" {
            stopReason = .bodyTooLarge(limit: limit, seen: length)
            return false
        }
        if let sink, case .abort(let reason) = sink.receiveHead(head) {
            stopReason = .aborted(reason: reason)
            return false
        }
        return true
    }

    fileprivate func didReceiveBody(_ chunk: UnsafeRawBufferPointer) -> Bool {
        guard finalHead != nil else { return true }  // body of a redirect hop: not ours
        bodyBytes += chunk.count
        if let limit = request.maxBodyBytes, bodyBytes > limit {
            stopReason = .bodyTooLarge(limit: limit, seen: bodyBytes)
            return false
        }
        if let sink {
            if case .abort(let reason) = sink.receive(chunk) {
                stopReason = .aborted(reason: reason)
                return false
            }
        } else {
            if body.isEmpty, let expected = finalHead?.contentLength, expected > 0 {
                body.reserveCapacity(min(expected, request.maxBodyBytes ?? expected, 64 << 20))
            }
            body.append(contentsOf: chunk)
        }
        return true
    }

    private func currentURL() -> URL {
        guard let easy else { return request.url }
        var cString: UnsafeMutablePointer<CChar>?
        if dsb_easy_getinfo_str(easy, CURLINFO_EFFECTIVE_URL, &cString) == CURLE_OK, let cString,
           let url = URL(string: String(cString: cString)) {
            return url
        }
        return request.url
    }

    // MARK: Completion (engine thread)

    /// Builds the result from curl's final code and the handle's info.
    func result(for code: CURLcode) -> Result<HTTPResponse, HTTPError> {
        let url = request.url
        if let stopReason { return .failure(HTTPError(stopReason, url: url)) }
        guard code == CURLE_OK else { return .failure(error(for: code)) }
        guard let easy else { return .failure(HTTPError(.cancelled, url: url)) }

        var status = 0
        _ = dsb_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        var redirects = 0
        _ = dsb_easy_getinfo_long(easy, CURLINFO_REDIRECT_COUNT, &redirects)
        var downloaded: curl_off_t = 0
        _ = dsb_easy_getinfo_off(easy, CURLINFO_SIZE_DOWNLOAD_T, &downloaded)
        var totalMicros: curl_off_t = 0
        _ = dsb_easy_getinfo_off(easy, CURLINFO_TOTAL_TIME_T, &totalMicros)
        var version = 0
        _ = dsb_easy_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version)

        let head = finalHead ?? HTTPResponseHead(status: status, headers: blockHeaders, httpVersion: blockVersion, url: currentURL())
        return .success(HTTPResponse(
            status: status != 0 ? status : head.status,
            headers: head.headers,
            body: sink == nil ? body : nil,
            effectiveURL: currentURL(),
            redirectCount: redirects,
            httpVersion: Self.versionName(version, fallback: head.httpVersion),
            bytesDownloaded: bodyBytes,
            totalTime: .microseconds(totalMicros)))
    }

    private static func versionName(_ v: Int, fallback: String) -> String {
        switch v {
        case CURL_HTTP_VERSION_1_0: return "1.0"
        case CURL_HTTP_VERSION_1_1: return "1.1"
        case CURL_HTTP_VERSION_2_0: return "2"
        case CURL_HTTP_VERSION_3: return "3"
        default: return fallback
        }
    }

    private func error(for code: CURLcode) -> HTTPError {
        let url = request.url
        let message = String(cString: errorBuffer)
        var detail = message.isEmpty ? String(cString: curl_easy_strerror(code)) : message
        let mapped: HTTPError.Code
        switch code {
        case CURLE_UNSUPPORTED_PROTOCOL where message.contains("HTTP/0.9"):
            // Not a scheme: the reply did not start with a status line, which on a reused connection means the
            // previous reply sent more than it announced. The server's fault, and a fresh connection fixes it.
            mapped = .transport(curlCode: Int(code.rawValue), message: "malformed reply (no HTTP status line; a reused connection carried another reply's extra bytes?)")
        case CURLE_UNSUPPORTED_PROTOCOL:
            mapped = .disallowedScheme(Self.quotedScheme(in: message) ?? "")
            if let location = blockHeaders["Location"], (300..<400).contains(blockStatus) {
                detail = "redirected to \(location); \(detail)"
            }
        case CURLE_URL_MALFORMAT:
            mapped = .invalidURL
        case CURLE_COULDNT_RESOLVE_HOST:
            mapped = .resolveFailed
        case CURLE_COULDNT_CONNECT where refusedAddress != nil:
            mapped = .privateAddress(refusedAddress!)
            detail = "refused before connecting: \(refusedAddress!); a remote source may not reach loopback, private, link-local, multicast or unspecified addresses (collect.allow_hosts opens one)"
        case CURLE_COULDNT_CONNECT:
            mapped = .connectFailed
        case CURLE_OPERATION_TIMEDOUT:
            if message.contains("too slow") {
                mapped = .lowSpeed(limit: request.lowSpeedLimit ?? 0, seconds: lowSpeedSeconds)
            } else if message.hasPrefix("Connection timed out") || message.hasPrefix("Failed to connect") {
                mapped = .timedOut(.connect)
            } else {
                mapped = .timedOut(.total)
            }
        case CURLE_PARTIAL_FILE:
            mapped = .truncatedBody
        case CURLE_GOT_NOTHING:
            mapped = .emptyReply
        case CURLE_SEND_ERROR, CURLE_RECV_ERROR:
            mapped = .connectionLost
        case CURLE_TOO_MANY_REDIRECTS:
            mapped = .tooManyRedirects(limit: request.maxRedirects)
        case CURLE_FILESIZE_EXCEEDED:
            mapped = .bodyTooLarge(limit: request.maxBodyBytes ?? 0, seen: finalHead?.contentLength ?? bodyBytes)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS:
            mapped = .tls
        default:
            mapped = .transport(curlCode: Int(code.rawValue), message: detail)
        }
        return HTTPError(mapped, url: url, detail: detail)
    }

    /// `Protocol "file" not supported or disabled in libcurl` → "file".
    private static func quotedScheme(in message: String) -> String? {
        guard let open = message.firstIndex(of: "\"") else { return nil }
        let rest = message[message.index(after: open)...]
        guard let close = rest.firstIndex(of: "\"") else { return nil }
        return String(rest[..<close])
    }

    /// Hands the result to the waiting task, once.
    func resume(with result: Result<HTTPResponse, HTTPError>) {
        guard !resumed else { return }
        resumed = true
        continuation.resume(returning: result)
    }
}

// C callbacks: capture nothing, find their transfer through the userdata pointer.

private let curlWriteCallback: dsb_data_callback = { pointer, size, count, userdata in
    let total = size * count
    guard let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let ok = transfer.didReceiveBody(UnsafeRawBufferPointer(start: pointer, count: total))
    return ok ? total : 0
}

private let curlOpenSocketCallback: dsb_opensocket_callback = { userdata, _, address in
    guard let userdata, let address else { return dsb_socket_bad() }
    return Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue().openSocket(address)
}

private let curlHeaderCallback: dsb_data_callback = { pointer, size, count, userdata in
    let total = size * count
    guard let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let ok = transfer.didReceiveHeaderLine(UnsafeRawBufferPointer(start: pointer, count: total))
    return ok ? total : 0
}
