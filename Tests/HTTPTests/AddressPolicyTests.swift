import Dataset
import Foundation
import HTTP
import Testing
import _DSBuildTestSupport

/// Server-side request forgery (issue 15, case 6): the engine's address policy is checked on the address actually
/// connected to, in libcurl's open-socket callback, so a redirect or a DNS answer cannot reach an internal
/// service. Only 127.0.0.0/8 is ever connected to here: other addresses are reached through a resolver override
/// (CURLOPT_RESOLVE) and refused by the callback before a socket exists.
@Suite(.serialized) struct AddressPolicyTests {
    @Test func restrictedAddressesAreClassifiedAndPublicOnesAreNot() throws {
        let restricted = ["127.0.0.1", "127.0.0.2", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "0.0.0.0",
                          "224.0.0.1", "255.255.255.255", "100.64.0.1", "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1",
                          "ff02::1", "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254"]
        for text in restricted {
            let address = try #require(IPAddress(text))
            #expect(address.restrictedCategory != nil, "\(text) must be refused")
        }
        for text in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "172.32.0.1", "192.169.0.1"] {
            let address = try #require(IPAddress(text))
            #expect(address.restrictedCategory == nil, "\(text) is public")
        }
        #expect(IPAddress("169.254.169.254")?.restrictedCategory == "link-local")
        #expect(IPAddress("fe80::1")?.restrictedCategory == "link-local")
        #expect(IPAddress("127.0.0.1")?.restrictedCategory == "loopback")
    }

    @Test func allowHostsOpensExactlyWhatItNames() throws {
        let policy = try AddressPolicy.publicOnly(allowing: ["127.0.0.1:8080", "10.0.0.0/8", "[::1]:9000", "localhost:7000"])
        let loopback = try #require(IPAddress("127.0.0.1"))
        #expect(policy.refusal(loopback, port: 8080) == nil)
        #expect(policy.refusal(loopback, port: 8081) != nil, "another port of an allowed host is refused")
        #expect(policy.refusal(try #require(IPAddress("127.0.0.2")), port: 8080) != nil, "127.0.0.2 is not 127.0.0.1")
        #expect(policy.refusal(try #require(IPAddress("10.200.3.4")), port: 443) == nil, "the CIDR block, any port")
        #expect(policy.refusal(try #require(IPAddress("11.0.0.1")), port: 443) == nil, "public addresses stay allowed")
        #expect(policy.refusal(try #require(IPAddress("192.168.0.1")), port: 443)?.contains("private") == true)
        #expect(policy.refusal(try #require(IPAddress("::1")), port: 9000) == nil)
        #expect(policy.refusal(try #require(IPAddress("::1")), port: 9001) != nil)
        #expect(policy.refusal(loopback, port: 7000) == nil, "a host name is resolved when the policy is made")
        #expect(AddressPolicy.any.refusal(loopback, port: 1) == nil)
        for bad in ["", "10.0.0.0/33", "127.0.0.1:0", "127.0.0.1:http", "[::1", "no-such-host.invalid:80"] {
            #expect(throws: AddressPolicy.ParseError.self, "\(bad)") { try AddressPolicy.publicOnly(allowing: [bad]) }
        }
    }

    /// The refusal happens in the open-socket callback, before connect: the name resolves (override) to a
    /// private or link-local address, the callback sees that address and returns CURL_SOCKET_BAD, curl fails
    /// with COULDNT_CONNECT, and the error names the address the callback saw.
    @Test func aNameResolvingToAPrivateOrLinkLocalAddressIsRefusedBeforeConnecting() async throws {
        let policy = AddressPolicy.publicOnly()
        // Guard: the policy itself refuses these addresses, so the engine below never opens a socket to them.
        try #require(policy.refusal(try #require(IPAddress("10.0.0.1")), port: 80) != nil)
        try #require(policy.refusal(try #require(IPAddress("169.254.169.254")), port: 80) != nil)
        try #require(policy.refusal(try #require(IPAddress("fe80::1")), port: 80) != nil)
        var configuration = HTTPEngine.Configuration.loopback()
        configuration.addressPolicy = policy
        let engine = HTTPEngine(configuration: configuration)
        defer { engine.shutdown() }
        for (name, address) in [("internal.test", "10.0.0.1"), ("metadata.test", "169.254.169.254")] {
            var request = HTTPRequest(url: URL(string: "http://\(name)/latest/meta-data")!, connectTimeout: .seconds(2),
                                      totalTimeout: .seconds(5))
            request.resolve = ["\(name):80:\(address)"]
            let error = await performExpectingError(engine, request)
            #expect(error?.code == .privateAddress("\(address):80 is a \(address.hasPrefix("10.") ? "private" : "link-local") address"),
                    "\(String(describing: error))")
            #expect(error?.description.contains("refused before connecting") == true)
        }
    }

    @Test func redirectsToAnotherLoopbackPortOr127002AreRefusedAndTheAllowedPortWorks() async throws {
        let other = try LoopbackHTTPServer { _ in .text("the other service") }
        defer { other.stop() }
        let router = LoopbackRouter()
            .on("/ok") { _ in .text("fine") }
            .on("/to-other-port") { _ in .redirect(to: "http://127.0.0.1:\(other.port)/secret") }
            .on("/to-127-0-0-2") { request in .redirect(to: "http://127.0.0.2:\(request.header("Host")?.split(separator: ":").last ?? "80")/ok") }
        let server = try LoopbackHTTPServer(router: router)
        defer { server.stop() }
        var configuration = HTTPEngine.Configuration.loopback()
        configuration.addressPolicy = try AddressPolicy.publicOnly(allowing: ["127.0.0.1:\(server.port)"])
        let engine = HTTPEngine(configuration: configuration)
        defer { engine.shutdown() }

        let ok = try await engine.perform(HTTPRequest(url: server.url("/ok")))
        #expect(ok.status == 200 && String(decoding: ok.body ?? Data(), as: UTF8.self) == "fine")

        let toOther = await performExpectingError(engine, HTTPRequest(url: server.url("/to-other-port")))
        #expect(toOther?.code == .privateAddress("127.0.0.1:\(other.port) is a loopback address"), "\(String(describing: toOther))")
        #expect(other.totalRequests == 0, "the other port never saw a request")

        let to2 = await performExpectingError(engine, HTTPRequest(url: server.url("/to-127-0-0-2")))
        #expect(to2?.code == .privateAddress("127.0.0.2:\(server.port) is a loopback address"), "\(String(describing: to2))")

        // Without a policy (the default, used for the LLM endpoint) the same redirect is followed.
        let open = HTTPEngine(configuration: .loopback())
        defer { open.shutdown() }
        let followed = try await open.perform(HTTPRequest(url: server.url("/to-other-port")))
        #expect(String(decoding: followed.body ?? Data(), as: UTF8.self) == "the other service")
    }

    @Test func aRetryAfterBeyondTheMaximumWaitEndsTheRetriesAtOnce() async throws {
        let router = LoopbackRouter().on("/busy") { _ in .status(429, headers: [("Retry-After", "3600")]) }
        try await withLoopback(router) { server, engine in
            let policy = RetryPolicy(maxAttempts: 5, baseDelay: .milliseconds(1), maxWait: .seconds(300))
            let started = Date()
            let result = await engine.perform(HTTPRequest(url: server.url("/busy")), retry: policy)
            #expect(Date().timeIntervalSince(started) < 5)
            #expect(result.attempts.count == 1)
            let refused = try #require(result.waitRefused)
            #expect(refused.asked.delay == .seconds(3600))
            #expect(refused.description.contains("asked to wait 1h00m (Retry-After: 3600)"), "\(refused)")
            #expect(refused.description.contains("collect.max_wait_seconds"))
            #expect(server.requestCount("/busy") == 1)
        }
    }
}
