import Foundation

/// Which addresses the engine may open a connection to, checked on the address actually connected to (libcurl's
/// open-socket callback), so neither a redirect nor a DNS answer that changes between lookups (rebinding) can
/// reach an internal service.
///
/// `.any` allows everything (the LLM endpoint, often on loopback). `.publicOnly` refuses loopback, private
/// (RFC 1918, 100.64/10, fc00::/7), link-local (169.254/16, fe80::/10), multicast, broadcast, reserved and
/// unspecified addresses, except what `allowed` names exactly: `127.0.0.1:8080`, `[::1]:8080`, `10.0.0.0/8`,
/// `192.168.1.5`, or a host name (`localhost:8080`), resolved once when the policy is made.
public struct AddressPolicy: Sendable, Equatable {
    /// One `collect.allow_hosts` entry.
    public struct Rule: Sendable, Equatable, CustomStringConvertible {
        /// 4 or 16 bytes.
        public var network: [UInt8]
        public var prefixLength: Int
        /// Nil: every port.
        public var port: Int?
        /// The entry as written.
        public var text: String

        public var description: String { text }

        func matches(_ address: IPAddress, port: Int) -> Bool {
            if let own = self.port, own != port { return false }
            return address.bytes.count == network.count && address.isIn(network: network, prefixLength: prefixLength)
        }
    }

    /// A `collect.allow_hosts` entry that cannot be read.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var entry: String
        public var reason: String
        public var description: String {
            "\"\(entry)\": \(reason); write host[:port] (127.0.0.1:8080, [::1]:8080, localhost:8080) or a CIDR block (10.0.0.0/8)"
        }
    }

    /// Whether restricted addresses are refused at all.
    public var restrictsPrivate: Bool
    public var allowed: [Rule]

    public static let any = AddressPolicy(restrictsPrivate: false, allowed: [])

    public static func publicOnly(allowing rules: [Rule] = []) -> AddressPolicy {
        AddressPolicy(restrictsPrivate: true, allowed: rules)
    }

    /// `.publicOnly` with `entries` parsed (host names are resolved now).
    public static func publicOnly(allowing entries: [String]) throws(ParseError) -> AddressPolicy {
        var rules: [Rule] = []
        for entry in entries { rules.append(contentsOf: try parse(entry)) }
        return .publicOnly(allowing: rules)
    }

    /// Why connecting to `address:port` is refused, or nil when it is allowed.
    public func refusal(_ address: IPAddress, port: Int) -> String? {
        guard restrictsPrivate, let category = address.restrictedCategory else { return nil }
        if allowed.contains(where: { $0.matches(address, port: port) }) { return nil }
        return "\(address.text(port: port)) is a \(category) address"
    }

    // MARK: - Parsing

    /// Why `entry` is not an allow-list entry by its form alone (a host name is not resolved: a recipe is read by
    /// every command, and a name that does not resolve is reported when collect builds its policy).
    public static func formProblem(_ entry: String) -> ParseError? {
        do {
            _ = try parse(entry, resolving: false)
            return nil
        } catch {
            return error
        }
    }

    static func parse(_ raw: String, resolving: Bool = true) throws(ParseError) -> [Rule] {
        let entry = raw.trimmingCharacters(in: .whitespaces)
        guard !entry.isEmpty else { throw ParseError(entry: raw, reason: "empty entry") }
        if let slash = entry.firstIndex(of: "/") {
            let host = String(entry[..<slash])
            guard let address = IPAddress(host), let prefix = Int(entry[entry.index(after: slash)...]),
                  (0...(address.bytes.count * 8)).contains(prefix) else {
                throw ParseError(entry: raw, reason: "not a CIDR block")
            }
            return [Rule(network: address.bytes, prefixLength: prefix, port: nil, text: entry)]
        }
        var host = entry
        var port: Int?
        if entry.hasPrefix("[") {
            guard let close = entry.firstIndex(of: "]") else { throw ParseError(entry: raw, reason: "unclosed [") }
            host = String(entry[entry.index(after: entry.startIndex)..<close])
            let rest = entry[entry.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let p = Int(rest.dropFirst()) else { throw ParseError(entry: raw, reason: "bad port") }
                port = p
            }
        } else if entry.filter({ $0 == ":" }).count == 1, let colon = entry.firstIndex(of: ":") {
            host = String(entry[..<colon])
            guard let p = Int(entry[entry.index(after: colon)...]) else { throw ParseError(entry: raw, reason: "bad port") }
            port = p
        }
        if let port, !(1...65535).contains(port) { throw ParseError(entry: raw, reason: "port out of range") }
        if let address = IPAddress(host) {
            return [Rule(network: address.bytes, prefixLength: address.bytes.count * 8, port: port, text: entry)]
        }
        guard resolving else { return [] }
        let addresses = IPAddress.resolve(host)
        guard !addresses.isEmpty else { throw ParseError(entry: raw, reason: "the host name does not resolve") }
        return addresses.map { Rule(network: $0.bytes, prefixLength: $0.bytes.count * 8, port: port, text: entry) }
    }
}

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address.
public struct IPAddress: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses a literal (`10.0.0.1`, `::1`, `fe80::1`).
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        return ok ? String(cString: buffer) : bytes.map(String.init).joined(separator: ".")
    }

    func text(port: Int) -> String { bytes.count == 4 ? "\(self):\(port)" : "[\(self)]:\(port)" }

    func isIn(network: [UInt8], prefixLength: Int) -> Bool {
        guard network.count == bytes.count else { return false }
        var remaining = prefixLength
        for index in 0..<bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask: UInt8 = bits == 8 ? 0xFF : ~(0xFF >> UInt8(bits))
            if bytes[index] & mask != network[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    /// The IPv4 address an IPv4-mapped (`::ffff:a.b.c.d`) or IPv4-compatible (`::a.b.c.d`) IPv6 address carries.
    var embeddedIPv4: IPAddress? {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }) else { return nil }
        if bytes[10] == 0xFF && bytes[11] == 0xFF { return IPAddress(bytes: Array(bytes[12..<16])) }
        if bytes[10] == 0 && bytes[11] == 0 && bytes[12..<16].contains(where: { $0 != 0 }) && !(bytes[12..<15].allSatisfy { $0 == 0 } && bytes[15] == 1) {
            return IPAddress(bytes: Array(bytes[12..<16]))
        }
        return nil
    }

    /// `loopback`, `private`, `link-local`, `multicast`, `unspecified`, `reserved`… or nil for a public address.
    public var restrictedCategory: String? {
        if let v4 = embeddedIPv4 { return v4.restrictedCategory }
        let blocks: [(String, Int, String)]
        if bytes.count == 4 {
            blocks = [
                ("0.0.0.0", 8, "unspecified"), ("127.0.0.0", 8, "loopback"), ("10.0.0.0", 8, "private"),
                ("172.16.0.0", 12, "private"), ("192.168.0.0", 16, "private"), ("100.64.0.0", 10, "private (shared/CGNAT)"),
                ("169.254.0.0", 16, "link-local"), ("192.0.0.0", 24, "reserved"), ("198.18.0.0", 15, "reserved (benchmarking)"),
                ("224.0.0.0", 4, "multicast"), ("240.0.0.0", 4, "reserved"),
            ]
        } else {
            blocks = [
                ("::", 128, "unspecified"), ("::1", 128, "loopback"), ("fc00::", 7, "private (unique local)"),
                ("fe80::", 10, "link-local"), ("fec0::", 10, "site-local"), ("ff00::", 8, "multicast"),
                ("64:ff9b:1::", 48, "private (local NAT64)"),
            ]
        }
        for (network, prefix, name) in blocks {
            if let base = IPAddress(network), isIn(network: base.bytes, prefixLength: prefix) { return name }
        }
        return nil
    }

    /// Every address `host` resolves to (A and AAAA).
    static func resolve(_ host: String) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var found: [IPAddress] = []
        var node = list
        while let current = node {
            if let address = current.pointee.ai_addr, let ip = IPAddress(sockaddr: address), !found.contains(ip) { found.append(ip) }
            node = current.pointee.ai_next
        }
        return found
    }

    /// The address in a `sockaddr_in` / `sockaddr_in6`.
    init?(sockaddr pointer: UnsafePointer<sockaddr>) {
        switch Int32(pointer.pointee.sa_family) {
        case AF_INET:
            let value = UnsafeRawPointer(pointer).assumingMemoryBound(to: sockaddr_in.self).pointee
            var address = value.sin_addr
            bytes = withUnsafeBytes(of: &address) { Array($0) }
        case AF_INET6:
            let value = UnsafeRawPointer(pointer).assumingMemoryBound(to: sockaddr_in6.self).pointee
            var address = value.sin6_addr
            bytes = withUnsafeBytes(of: &address) { Array($0) }
        default:
            return nil
        }
    }

    /// The port in a `sockaddr_in` / `sockaddr_in6` (host byte order).
    static func port(of pointer: UnsafePointer<sockaddr>) -> Int {
        switch Int32(pointer.pointee.sa_family) {
        case AF_INET: return Int(UInt16(bigEndian: UnsafeRawPointer(pointer).assumingMemoryBound(to: sockaddr_in.self).pointee.sin_port))
        case AF_INET6: return Int(UInt16(bigEndian: UnsafeRawPointer(pointer).assumingMemoryBound(to: sockaddr_in6.self).pointee.sin6_port))
        default: return 0
        }
    }
}
