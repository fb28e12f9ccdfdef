import Dataset
import Foundation
import Imaging

/// A chat turn as shard records and exports hold it.
struct ChatTurn {
    var role: String
    var content: String
}

/// One line of a text-only shard.
struct TextShardRecord {
    var file: String
    var line: Int
    var object: [String: Any]
    var id: String { object["id"] as? String ?? "line \(line)" }
    var kind: String { object["kind"] as? String ?? "" }
    var keyword: String? { object["keyword"] as? String }
    var text: String? { object["text"] as? String }
    var provenance: [String: Any] { object["provenance"] as? [String: Any] ?? [:] }
    var messages: [ChatTurn] { ChatTurn.list(object["messages"]) }
    var item: String { "\(file) record \(id)" }
}

/// One image member of a paired tar, hashed and header-probed (never decoded).
struct ShardImage {
    var member: String
    var fileExtension: String
    var sha256: String
    var magicFormat: String?
    var probe: ProbedImage?
    var probeError: String?
    /// The pHash of the upright pixels, for an image that is no stored image byte for byte (re-encoded, or
    /// foreign): how a near copy of a test image is found.
    var uprightPHash: UInt64?
}

/// The members of a paired tar that share one key.
struct PairedShardSample {
    var file: String
    var key: String
    var json: [String: Any]?
    var jsonError: String?
    var images: [ShardImage] = []
    var text: String?
    var others: [String] = []

    var kind: String { json?["kind"] as? String ?? "" }
    var keyword: String? { json?["keyword"] as? String }
    var imageSHA256: String? { json?["image_sha256"] as? String }
    var provenance: [String: Any] { json?["provenance"] as? [String: Any] ?? [:] }
    var messages: [ChatTurn] { ChatTurn.list(json?["messages"]) }
    /// `paired/00000.tar member <key>.jpg` (the image member when there is one).
    var item: String { "\(file) member \(images.first?.member ?? key + ".json")" }
    /// Every stored image this sample may carry: the one its json names and the one its bytes are.
    var imageSHA256s: [String] {
        var out: [String] = []
        if let sha = imageSHA256 { out.append(sha) }
        for image in images where !out.contains(image.sha256) { out.append(image.sha256) }
        return out
    }
}

/// A shard file listed in `shards.json` (or found beside them), as it is on disk.
struct ShardFileState {
    var file: String
    var listed: Bool
    var recordedBytes: Int?
    var recordedSHA256: String?
    var bytes: Int?
    var sha256: String?
    var readError: String?
}

extension ChatTurn {
    static func list(_ value: Any?) -> [ChatTurn] {
        ((value as? [[String: Any]]) ?? []).map { m in
            let content: String
            if let text = m["content"] as? String {
                content = text
            } else if let parts = m["content"] as? [[String: Any]] {
                content = parts.compactMap { $0["text"] as? String }.joined(separator: "\n")
            } else {
                content = m["value"] as? String ?? ""
            }
            let role = (m["role"] as? String) ?? ((m["from"] as? String).map { $0 == "human" ? "user" : $0 == "gpt" ? "assistant" : $0 } ?? "")
            return ChatTurn(role: role, content: content)
        }
    }
}

/// Reads a shard folder in one streamed pass: text records line by line, paired tars member by member (images
/// hashed and header-probed), every file's size and sha256 as read.
struct ShardContents {
    var index: ShardIndex?
    var indexError: String?
    var files: [ShardFileState] = []
    var text: [TextShardRecord] = []
    var paired: [PairedShardSample] = []
    /// Problems reading a shard (truncated tar, undecodable JSON line…), as (item, message).
    var problems: [(item: String, message: String)] = []

    /// Every image that is not one of `knownImages` (the stored images' sha256) byte for byte gets its upright pHash.
    static func load(root: URL, display: (URL) -> String, knownImages: Set<String> = []) -> ShardContents {
        var contents = ShardContents()
        let fm = FileManager.default
        guard fm.fileExists(atPath: root.appendingPathComponent("shards.json").path) else { return contents }
        do {
            contents.index = try ShardIndex.load(root, verify: false)
        } catch {
            contents.indexError = "\(error)"
            return contents
        }
        let index = contents.index!
        var listed = Set<String>()
        for entry in index.text + index.paired {
            listed.insert(entry.file)
            let url = root.appendingPathComponent(entry.file)
            let name = display(url)
            var state = ShardFileState(file: name, listed: true, recordedBytes: entry.bytes, recordedSHA256: entry.sha256)
            guard fm.fileExists(atPath: url.path) else {
                state.readError = "listed in shards.json but missing"
                contents.files.append(state)
                continue
            }
            if entry.file.hasSuffix(".tar") {
                contents.readTar(url, name: name, state: &state, knownImages: knownImages)
            } else {
                contents.readText(url, name: name, state: &state)
            }
            contents.files.append(state)
            // The img2dataset files beside a tar: there, with their recorded size and sha256.
            for side in entry.sidecars {
                listed.insert(side.file)
                let sideURL = root.appendingPathComponent(side.file)
                var sideState = ShardFileState(file: display(sideURL), listed: true, recordedBytes: side.bytes, recordedSHA256: side.sha256)
                if let data = try? Data(contentsOf: sideURL) {
                    sideState.bytes = data.count
                    sideState.sha256 = ContentHash.sha256Hex(data)
                } else {
                    sideState.readError = "listed in shards.json but missing"
                }
                contents.files.append(sideState)
            }
        }
        for sub in ["text", "paired"] {
            for file in ((try? fm.contentsOfDirectory(atPath: root.appendingPathComponent(sub).path)) ?? []).sorted()
            where !file.hasPrefix(".") && !listed.contains("\(sub)/\(file)") {
                contents.files.append(ShardFileState(file: display(root.appendingPathComponent("\(sub)/\(file)")), listed: false))
            }
        }
        return contents
    }

    private mutating func readText(_ url: URL, name: String, state: inout ShardFileState) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            state.readError = "cannot read it (\(error.localizedDescription))"
            return
        }
        state.bytes = data.count
        state.sha256 = ContentHash.sha256Hex(data)
        let raw: Data
        do {
            if url.path.hasSuffix(".gz") { raw = try Gzip.decompress(data) }
            else if url.path.hasSuffix(".zst") { raw = try Zstd.decompress(data) }
            else { raw = data }
        } catch {
            state.readError = "cannot decompress it (\(error))"
            return
        }
        for (n, line) in raw.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else {
                problems.append(("\(name) line \(n + 1)", "not a JSON object"))
                continue
            }
            text.append(TextShardRecord(file: name, line: n + 1, object: object))
        }
    }

    private mutating func readTar(_ url: URL, name: String, state: inout ShardFileState,
                                  knownImages: Set<String>) {
        var reader: TarReader
        do { reader = try TarReader(url: url) } catch {
            state.readError = "cannot open it (\(error.localizedDescription))"
            return
        }
        defer { reader.close() }
        var samples: [String: PairedShardSample] = [:]
        var order: [String] = []
        do {
            while let member = try reader.next() {
                let base = (member.name as NSString).lastPathComponent
                guard let dot = base.firstIndex(of: ".") else {
                    problems.append(("\(name) member \(member.name)", "has no extension (WebDataset members are <key>.<ext>)"))
                    continue
                }
                let key = String(base[..<dot])
                let ext = String(base[base.index(after: dot)...]).lowercased()
                if samples[key] == nil { samples[key] = PairedShardSample(file: name, key: key); order.append(key) }
                switch ext {
                case "json":
                    if let object = (try? JSONSerialization.jsonObject(with: member.contents)) as? [String: Any] {
                        samples[key]!.json = object
                    } else {
                        samples[key]!.jsonError = "\(member.name) is not a JSON object"
                    }
                case "txt":
                    samples[key]!.text = String(decoding: member.contents, as: UTF8.self)
                case "jpg", "jpeg", "png", "webp", "gif", "bmp", "tif", "tiff", "avif", "heic":
                    var image = ShardImage(member: member.name, fileExtension: ext, sha256: ContentHash.sha256Hex(member.contents),
                                           magicFormat: ImageMagic.format(of: member.contents.prefix(16)))
                    do { image.probe = try ProbedImage.probe(data: member.contents) } catch { image.probeError = "\(error)" }
                    if !knownImages.contains(image.sha256) {
                        image.uprightPHash = try? PerceptualHash.compute(data: member.contents, upright: true).value
                    }
                    samples[key]!.images.append(image)
                default:
                    samples[key]!.others.append(member.name)
                }
            }
            try reader.drain()
        } catch {
            state.readError = "\(error)"
        }
        state.bytes = reader.digest.bytes
        state.sha256 = reader.digest.hex()
        paired += order.compactMap { samples[$0] }
    }
}
