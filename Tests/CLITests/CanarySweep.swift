import Foundation
import Glibc

/// Looks for secrets where they must never be: every form a canary could take on the way out (raw, trimmed,
/// percent-encoded in the usual variants, JSON-escaped, base64 at each alignment, and the distinctive core
/// `CANARY`) in command output and in every file under a folder (the manifest's WAL included).
struct CanarySweep {
    /// A form found: where, which form, how many bytes.
    struct Leak: CustomStringConvertible {
        var place: String
        var form: String
        var bytes: Int
        var description: String { "\(place): \(form.debugDescription) (\(bytes) bytes)" }
    }

    let forms: [String]

    init(canaries: [String]) {
        forms = Array(canaries.reduce(into: Set<String>()) { $0.formUnion(Self.forms($1)) }).sorted()
    }

    /// Every form of `secret` worth looking for.
    static func forms(_ secret: String) -> Set<String> {
        var out: Set<String> = []
        for base in [secret, secret.trimmingCharacters(in: .whitespacesAndNewlines)] {
            out.insert(base)
            let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
            let strict = base.addingPercentEncoding(withAllowedCharacters: unreserved)!
            out.insert(strict)
            out.insert(strict.replacingOccurrences(of: "%20", with: "+"))
            out.insert(strict.lowercased())
            out.insert(base.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!)
            out.insert(base.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed)!.replacingOccurrences(of: "+", with: "%2B"))
            let json = String(decoding: try! JSONSerialization.data(withJSONObject: [base]), as: UTF8.self)
            out.insert(String(json.dropFirst(2).dropLast(2)))
            out.insert(String(json.dropFirst(2).dropLast(2)).replacingOccurrences(of: "\\/", with: "/"))
            // base64 of anything containing the secret, at each of the three alignments: the characters that
            // encode only the secret's own bytes.
            for shift in 0..<3 {
                let encoded = Data((String(repeating: "x", count: shift) + base).utf8).base64EncodedString()
                let core = encoded.dropFirst(shift == 0 ? 0 : 4).dropLast(4)
                if core.count >= 8 { out.insert(String(core)) }
            }
        }
        out.insert("CANARY")
        return out
    }

    /// Every form found in `data`, with the bytes it covers (occurrences × length).
    func leaks(in data: Data, place: String) -> [Leak] {
        forms.compactMap { form in
            let needle = Array(form.utf8)
            let count = data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) -> Int in
                guard let base = raw.baseAddress, !needle.isEmpty else { return 0 }
                var found = 0
                var offset = 0
                // memchr for the first byte, memcmp for the rest (memmem is not exported by Glibc's module).
                while offset + needle.count <= raw.count,
                      let hit = memchr(base + offset, Int32(needle[0]), raw.count - offset - needle.count + 1) {
                    let at = UnsafeRawPointer(hit) - base
                    if memcmp(hit, needle, needle.count) == 0 {
                        found += 1
                        offset = at + needle.count
                    } else {
                        offset = at + 1
                    }
                }
                return found
            }
            return count > 0 ? Leak(place: place, form: form, bytes: count * needle.count) : nil
        }
    }

    /// Every form found in any regular file under `folder` (read as is, without opening any database).
    func leaks(under folder: URL) -> (leaks: [Leak], files: Int) {
        var out: [Leak] = []
        var files = 0
        let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = enumerator?.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true,
                  let data = try? Data(contentsOf: url) else { continue }
            files += 1
            out += leaks(in: data, place: url.path)
        }
        return (out, files)
    }
}
