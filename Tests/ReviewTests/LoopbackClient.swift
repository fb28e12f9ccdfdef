import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 client over a loopback TCP socket, so a test sets `Host`, `Origin` and `Cookie` exactly as a
/// browser (or an attacker's page) would, which URLSession does not allow for `Host`.
struct LoopbackClient {
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    let port: Int

    func request(_ method: String, _ path: String, headers: [String: String] = [:], body: String? = nil) throws -> Reply {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw POSIXError(.ECONNREFUSED) }
        var head = "\(method) \(path) HTTP/1.1\r\n"
        var all = ["Host": "127.0.0.1:\(port)", "Connection": "close"]
        for (k, v) in headers { all[k] = v }
        let payload = Data((body ?? "").utf8)
        if body != nil {
            all["Content-Type"] = all["Content-Type"] ?? "application/x-www-form-urlencoded"
            all["Content-Length"] = "\(payload.count)"
        }
        for (k, v) in all.sorted(by: { $0.key < $1.key }) where !v.isEmpty { head += "\(k): \(v)\r\n" }
        let bytes = Data((head + "\r\n").utf8) + payload
        // MSG_NOSIGNAL: a server that answers (413) and closes before the whole body is sent must not kill the test.
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var response = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            response.append(contentsOf: buffer[0..<n])
        }
        guard let split = response.range(of: Data("\r\n\r\n".utf8)) else { throw POSIXError(.EBADMSG) }
        let lines = String(decoding: response[..<split.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Data(response[split.upperBound...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = Self.dechunk(body) }
        return Reply(status: status, headers: headers, body: body)
    }

    static func dechunk(_ data: Data) -> Data {
        var out = Data()
        var rest = data[...]
        while let line = rest.range(of: Data("\r\n".utf8)) {
            let size = Int(String(decoding: rest[..<line.lowerBound], as: UTF8.self).split(separator: ";").first ?? "", radix: 16) ?? 0
            if size == 0 { break }
            let start = line.upperBound
            out.append(rest[start..<start + size])
            rest = rest[(start + size + 2)...]
        }
        return out
    }
}

/// `dsbuild review` started as a child process; its URL (with the session token) read from its first stdout line.
final class ReviewProcess {
    let process = Process()
    let url: URL
    var port: Int { url.port ?? 0 }
    /// The session token: the segment after `/s/` in the URL's path.
    var token: String { url.path.hasPrefix("/s/") ? url.path.dropFirst(3).split(separator: "/").first.map(String.init) ?? "" : "" }
    /// The app's root path, `/s/<token>`, without the trailing slash (a route is appended to it).
    var base: String { "/s/\(token)" }

    init(binary: URL, workspace: URL, reviewer: String = "tester") throws {
        process.executableURL = binary
        process.arguments = ["review", "--workspace", workspace.path, "--reviewer", reviewer, "--quiet"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        let handle = out.fileHandleForReading
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        guard let text = String(data: line, encoding: .utf8)?.split(separator: "\n").first, let url = URL(string: String(text)) else {
            process.terminate()
            throw CocoaError(.fileReadCorruptFile)
        }
        self.url = url
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    deinit { stop() }
}
