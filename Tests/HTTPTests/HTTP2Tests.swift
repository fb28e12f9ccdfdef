import Dataset
import Foundation
import HTTP
import Testing
import _DSBuildTestSupport

/// nginx (Debian's nginx-light) on loopback with TLS and HTTP/2, its certificate made by `openssl` for the test.
final class TLSNginx {
    let directory = TemporaryDirectory("h2-nginx")
    let port: Int
    let process = Process()
    var certificate: URL { directory.path("cert.pem") }
    var accessLog: URL { directory.path("access.log") }

    static let nginx = "/usr/sbin/nginx"

    /// Serves `files` (name → bytes) under /f/ at https://127.0.0.1:port.
    init(files: [String: Data]) throws {
        port = try LoopbackPort.free()
        let dir = directory.url
        let openssl = try Self.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                                    "-keyout", directory.path("key.pem").path, "-out", directory.path("cert.pem").path,
                                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"])
        guard openssl == 0 else { throw SetupError(message: "openssl could not make a certificate (status \(openssl))") }
        let www = directory.path("www/f")
        try FileManager.default.createDirectory(at: www, withIntermediateDirectories: true)
        for (name, data) in files { try data.write(to: www.appendingPathComponent(name)) }
        let config = """
            daemon off;
            master_process off;
            pid \(dir.path)/nginx.pid;
            error_log \(dir.path)/error.log warn;
            events { worker_connections 256; }
            http {
                log_format conn '$connection $server_protocol $status $request_uri';
                access_log \(accessLog.path) conn;
                client_body_temp_path \(dir.path)/body;
                proxy_temp_path \(dir.path)/proxy;
                fastcgi_temp_path \(dir.path)/fastcgi;
                uwsgi_temp_path \(dir.path)/uwsgi;
                scgi_temp_path \(dir.path)/scgi;
                server {
                    listen 127.0.0.1:\(port) ssl http2;
                    ssl_certificate \(certificate.path);
                    ssl_certificate_key \(dir.path)/key.pem;
                    root \(dir.path)/www;
                }
            }
            """
        try config.write(to: directory.path("nginx.conf"), atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: Self.nginx)
        process.arguments = ["-c", directory.path("nginx.conf").path, "-p", dir.path, "-e", directory.path("error.log").path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Ready when the port accepts connections.
        for _ in 0..<100 {
            if LoopbackPort.accepts(port) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let log = (try? String(contentsOf: directory.path("error.log"), encoding: .utf8)) ?? ""
        stop()
        throw SetupError(message: "nginx did not start on port \(port): \(log)")
    }

    /// SIGKILL (see `ProcessTree`): nginx started from a pool thread may never see a SIGTERM.
    func stop() {
        if process.isRunning {
            ProcessTree.kill(process.processIdentifier)
            process.waitUntilExit()
        }
    }

    deinit { stop() }

    /// Access-log lines: (connection serial number, protocol, status, URI).
    func requests() throws -> [(connection: String, proto: String, status: String, uri: String)] {
        try String(contentsOf: accessLog, encoding: .utf8).split(separator: "\n").map {
            let f = $0.split(separator: " ").map(String.init)
            return (f[0], f[1], f[2], f[3])
        }
    }

    struct SetupError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    static func run(_ arguments: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }
}

/// Twelve bodies of 150–161 kB, different in length and content.
let http2TestFiles: [String: Data] = Dictionary(uniqueKeysWithValues: (0..<12).map { i in
    ("\(i).bin", Data((0..<(150_000 + i * 1000)).map { UInt8(truncatingIfNeeded: $0 &* (i + 7)) }))
})

/// The engine over TLS: HTTP/2 is negotiated and concurrent transfers to one host share one multiplexed
/// connection; with multiplexing off they use HTTP/1.1 connections up to the per-host limit; a certificate
/// that is not trusted fails as a TLS error.
@Suite(.serialized) struct HTTP2Tests {
    static var files: [String: Data] { http2TestFiles }

    /// An engine trusting the server's certificate.
    func engine(for server: TLSNginx, perHost: Int, multiplex: Bool = true) -> HTTPEngine {
        var configuration = HTTPEngine.Configuration.loopback()
        configuration.caBundle = server.certificate.path
        configuration.maxConnectionsPerHost = perHost
        configuration.multiplex = multiplex
        return HTTPEngine(configuration: configuration)
    }

    func fetchAll(_ engine: HTTPEngine, port: Int) async throws -> [(String, HTTPResponse, Int)] {
        try await withThrowingTaskGroup(of: (String, HTTPResponse, Int).self) { group in
            for name in Self.files.keys {
                group.addTask {
                    let sink = RecordingSink()
                    let response = try await engine.perform(HTTPRequest(url: URL(string: "https://127.0.0.1:\(port)/f/\(name)")!), sink: sink)
                    return (name, response, sink.bytes)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    @Test func concurrentTransfersAreMultiplexedOverOneHTTP2Connection() async throws {
        let server = try TLSNginx(files: Self.files)
        defer { server.stop() }
        let engine = engine(for: server, perHost: 6)
        defer { engine.shutdown() }
        let results = try await fetchAll(engine, port: server.port)
        #expect(results.count == 12)
        for (name, response, bytes) in results {
            #expect(response.status == 200 && response.httpVersion == "2", "\(name): \(response.httpVersion)")
            #expect(bytes == Self.files[name]!.count)
        }
        let log = try server.requests()
        #expect(log.count == 12 && log.allSatisfy { $0.proto == "HTTP/2.0" && $0.status == "200" })
        #expect(Set(log.map(\.connection)).count == 1, "one multiplexed connection: \(log.map(\.connection))")
    }

    @Test func withoutMultiplexingHTTP11UsesSeveralConnectionsWithinTheHostLimit() async throws {
        let server = try TLSNginx(files: Self.files)
        defer { server.stop() }
        let engine = engine(for: server, perHost: 4, multiplex: false)
        defer { engine.shutdown() }
        let results = try await fetchAll(engine, port: server.port)
        #expect(results.allSatisfy { $0.1.httpVersion == "1.1" && $0.2 == Self.files[$0.0]!.count })
        let log = try server.requests()
        let connections = Set(log.map(\.connection)).count
        #expect(log.count == 12 && log.allSatisfy { $0.proto == "HTTP/1.1" })
        #expect(connections > 1 && connections <= 4, "\(connections) connections")
    }

    @Test func anUntrustedCertificateIsATLSError() async throws {
        let server = try TLSNginx(files: ["0.bin": Data([1, 2, 3])])
        defer { server.stop() }
        var configuration = HTTPEngine.Configuration.loopback()
        configuration.caBundle = nil  // the system store does not know the test's certificate
        let engine = HTTPEngine(configuration: configuration)
        defer { engine.shutdown() }
        let error = await performExpectingError(engine, HTTPRequest(url: URL(string: "https://127.0.0.1:\(server.port)/f/0.bin")!))
        #expect(error?.code == .tls, "\(String(describing: error))")
        #expect(HTTPEngine.environmentCABundle(["SSL_CERT_FILE": "/a.pem"]) == "/a.pem")
        #expect(HTTPEngine.environmentCABundle(["CURL_CA_BUNDLE": "/b.pem", "SSL_CERT_FILE": "/a.pem"]) == "/b.pem")
        #expect(HTTPEngine.environmentCABundle(["CURL_CA_BUNDLE": ""]) == nil)
    }
}
