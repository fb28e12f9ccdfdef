import Dataset
import Foundation

/// A shard folder's `shards.json`, read and checked before training (docs/shard-format.md).
public struct ShardIndex: Sendable {
    public struct Entry: Sendable {
        public var file: String
        public var samples: Int
        public var bytes: Int
        public var sha256: String
        /// A paired shard's img2dataset files (`NNNNN.parquet`, `NNNNN_stats.json`) as `shards.json` lists them
        /// (their `samples` is the shard's).
        public var sidecars: [Entry] = []
    }

    public var root: URL
    public var fingerprint: String
    public var text: [Entry]
    public var paired: [Entry]
    public var byKind: [String: Int]

    public var textCount: Int { text.reduce(0) { $0 + $1.samples } }
    public var pairedCount: Int { paired.reduce(0) { $0 + $1.samples } }

    public struct ValidationError: Error, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Reads the index; with `verify`, checks every shard's size and sha256 and that the counts add up.
    public static func load(_ root: URL, verify: Bool = true) throws -> ShardIndex {
        let url = root.appendingPathComponent("shards.json")
        guard let data = try? Data(contentsOf: url) else {
            throw ValidationError(message: "\(url.path) not found; point --shards at a folder written by `dsbuild shards`")
        }
        guard let o = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ValidationError(message: "\(url.path) is not a JSON object; rebuild it with `dsbuild shards`")
        }
        guard o["format"] as? String == "dsbuild-shards", o["version"] as? Int == 1 else {
            throw ValidationError(message: "\(url.path) is not a version 1 dsbuild shard index")
        }
        func entries(_ key: String) throws -> [Entry] {
            try ((o[key] as? [[String: Any]]) ?? []).map { e in
                guard let file = e["file"] as? String, let samples = e["samples"] as? Int, let bytes = e["bytes"] as? Int,
                      let sha = e["sha256"] as? String else {
                    throw ValidationError(message: "\(url.path): a `\(key)` entry lacks file/samples/bytes/sha256")
                }
                var entry = Entry(file: file, samples: samples, bytes: bytes, sha256: sha)
                for name in ["parquet", "stats"] {
                    guard let side = e[name] as? [String: Any] else { continue }
                    guard let sideFile = side["file"] as? String, let sideBytes = side["bytes"] as? Int, let sideSHA = side["sha256"] as? String else {
                        throw ValidationError(message: "\(url.path): the `\(name)` of \(file) lacks file/bytes/sha256")
                    }
                    entry.sidecars.append(Entry(file: sideFile, samples: samples, bytes: sideBytes, sha256: sideSHA))
                }
                return entry
            }
        }
        let counts = o["counts"] as? [String: Any] ?? [:]
        var index = ShardIndex(root: root, fingerprint: o["fingerprint"] as? String ?? "", text: try entries("text"),
                               paired: try entries("paired"), byKind: counts["by_kind"] as? [String: Int] ?? [:])
        index.byKind = index.byKind.filter { $0.value > 0 }
        guard verify else { return index }
        if let declared = counts["text"] as? Int, declared != index.textCount {
            throw ValidationError(message: "\(url.path): counts.text is \(declared) but the text shards hold \(index.textCount) records")
        }
        if let declared = counts["paired"] as? Int, declared != index.pairedCount {
            throw ValidationError(message: "\(url.path): counts.paired is \(declared) but the paired shards hold \(index.pairedCount) samples")
        }
        for entry in index.text + index.paired + index.paired.flatMap(\.sidecars) {
            let file = root.appendingPathComponent(entry.file)
            guard let size = (try? FileManager.default.attributesOfItem(atPath: file.path))?[.size] as? Int else {
                throw ValidationError(message: "shard \(file.path) is missing; rerun `dsbuild shards`")
            }
            guard size == entry.bytes else {
                throw ValidationError(message: "shard \(file.path) has \(size) bytes, the index says \(entry.bytes); rerun `dsbuild shards`")
            }
            let sha = try ContentHash.sha256Hex(fileAt: file)
            guard sha == entry.sha256 else {
                throw ValidationError(message: "shard \(file.path) does not match its sha256 in the index (corrupt or changed); rerun `dsbuild shards`")
            }
        }
        let shas = (index.text + index.paired).map(\.sha256).sorted()
        if !index.fingerprint.isEmpty, ContentHash.sha256Hex(shas.joined()) != index.fingerprint {
            throw ValidationError(message: "\(url.path): the fingerprint does not match the shards' sha256s; rerun `dsbuild shards`")
        }
        return index
    }
}

/// A training mode: which samples the trainer draws (docs/shard-format.md, "Training modes").
public enum TrainMode: Sendable, Equatable, CustomStringConvertible {
    case textOnly, paired, vift
    case hybrid(Double)

    public init?(_ text: String) {
        switch text {
        case "text-only": self = .textOnly
        case "paired": self = .paired
        case "vift": self = .vift
        default:
            guard text.hasPrefix("hybrid:"), let r = Double(text.dropFirst("hybrid:".count)), r >= 0, r <= 1 else { return nil }
            self = .hybrid(r)
        }
    }

    public var description: String {
        switch self {
        case .textOnly: "text-only"
        case .paired: "paired"
        case .vift: "vift"
        case .hybrid(let r): "hybrid:\(r)"
        }
    }

    /// Why this index cannot feed the mode, or nil when it can.
    public func missingData(in index: ShardIndex) -> String? {
        switch self {
        case .textOnly: index.textCount > 0 ? nil : "mode text-only needs text records, and the shards have none"
        case .paired: index.pairedCount > 0 ? nil : "mode paired needs paired samples, and the shards have none"
        case .hybrid(let r):
            if r > 0 && index.pairedCount == 0 { "mode \(self) needs paired samples, and the shards have none" }
            else if r < 1 && index.textCount == 0 { "mode \(self) needs text records, and the shards have none" }
            else { nil }
        case .vift:
            if index.textCount == 0 { "mode vift needs text records (descriptions/qa), and the shards have none" }
            else if index.pairedCount == 0 || index.byKind["caption"] == 0 { "mode vift needs paired caption samples, and the shards have none" }
            else { nil }
        }
    }
}
