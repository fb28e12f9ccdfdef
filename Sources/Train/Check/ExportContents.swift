import Dataset
import Foundation
import Imaging

/// An image an export refers to (a file beside it, or a data URL inside it), hashed and header-probed.
struct ExportImage {
    var item: String
    var sha256: String?
    var probe: ProbedImage?
    var error: String?
    /// As `ShardImage.uprightPHash`: set for an image that is no stored image byte for byte.
    var uprightPHash: UInt64?
}

/// One conversation of a training export (LLaVA, LLaMA-Factory, OpenAI): its turns and images.
struct ExportConversation {
    var file: String
    var index: Int
    var id: String?
    var turns: [ChatTurn]
    var images: [ExportImage]
    var item: String { "\(file) item \(id ?? String(index))" }
}

/// One record of a question file (`mcq_test.jsonl`, or any `--export` file put under the shard folder).
struct ExportedQuestion {
    var file: String
    var line: Int
    var question: Question
    var image: ExportImage?
    var item: String { "\(file) line \(line) (question \(question.id))" }
}

/// Everything under the shard folder besides the shards: training exports, question files, their images.
struct ExportContents {
    var conversations: [ExportConversation] = []
    var questions: [ExportedQuestion] = []
    /// Every image file under an `images/` folder of the exports, probed once.
    var imageFiles: [ExportImage] = []
    /// Files that do not read back, as (item, message).
    var problems: [(item: String, message: String)] = []

    private var cache: [String: ExportImage] = [:]
    private var knownImages: Set<String> = []

    static func load(root: URL, display: (URL) -> String, knownImages: Set<String> = []) -> ExportContents {
        var contents = ExportContents()
        contents.knownImages = knownImages
        let fm = FileManager.default
        guard let enumerator = fm.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey], options: [.skipsHiddenFiles]) else {
            return contents
        }
        var files: [URL] = []
        for case let url as URL in enumerator {
            let relative = String(url.standardizedFileURL.path.dropFirst(root.standardizedFileURL.path.count + 1))
            if relative.hasPrefix("text/") || relative.hasPrefix("paired/") || relative == "shards.json" { continue }
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            files.append(url)
        }
        for url in files.sorted(by: { $0.path < $1.path }) {
            let name = display(url)
            if url.deletingLastPathComponent().lastPathComponent == "images" {
                contents.imageFiles.append(contents.image(at: url, item: name))
                continue
            }
            switch url.pathExtension.lowercased() {
            case "jsonl": contents.readJSONLines(url, name: name)
            case "json": contents.readJSON(url, name: name)
            default: break
            }
        }
        return contents
    }

    private mutating func image(at url: URL, item: String) -> ExportImage {
        if let cached = cache[url.path] { return cached }
        var image = ExportImage(item: item)
        if let data = try? Data(contentsOf: url) {
            image.sha256 = ContentHash.sha256Hex(data)
            do { image.probe = try ProbedImage.probe(data: data) } catch { image.error = "cannot be probed (\(error))" }
            image.uprightPHash = uprightPHash(data, sha: image.sha256!)
        } else {
            image.error = "is missing"
        }
        cache[url.path] = image
        return image
    }

    private func dataURLImage(_ url: String, item: String) -> ExportImage {
        var image = ExportImage(item: item)
        guard let comma = url.firstIndex(of: ","), url[..<comma].hasSuffix(";base64"),
              let data = Data(base64Encoded: String(url[url.index(after: comma)...])) else {
            image.error = "is not a base64 data URL"
            return image
        }
        image.sha256 = ContentHash.sha256Hex(data)
        do { image.probe = try ProbedImage.probe(data: data) } catch { image.error = "cannot be probed (\(error))" }
        image.uprightPHash = uprightPHash(data, sha: image.sha256!)
        return image
    }

    private func uprightPHash(_ data: Data, sha: String) -> UInt64? {
        guard !knownImages.contains(sha) else { return nil }
        return try? PerceptualHash.compute(data: data, upright: true).value
    }

    private mutating func readJSON(_ url: URL, name: String) {
        guard let data = try? Data(contentsOf: url), let value = try? JSONSerialization.jsonObject(with: data) else {
            problems.append((name, "is not valid JSON"))
            return
        }
        let directory = url.deletingLastPathComponent()
        if let info = value as? [String: Any], url.lastPathComponent == "dataset_info.json" {
            for (dataset, entry) in info.sorted(by: { $0.key < $1.key }) {
                guard let file = (entry as? [String: Any])?["file_name"] as? String else {
                    problems.append((name, "dataset \(dataset) has no file_name")); continue
                }
                if !FileManager.default.fileExists(atPath: directory.appendingPathComponent(file).path) {
                    problems.append((name, "dataset \(dataset) names \(file), which is not there"))
                }
            }
            return
        }
        guard let items = value as? [[String: Any]] else {
            problems.append((name, "is not a list of conversations"))
            return
        }
        for (i, item) in items.enumerated() {
            let id = (item["id"] as? String)
            let itemName = "\(name) item \(id ?? String(i))"
            var refs: [String] = []
            if let image = item["image"] as? String { refs.append(image) }
            if let list = item["images"] as? [String] { refs += list }
            guard let turns = item["conversations"] ?? item["messages"] ?? Self.alpacaTurns(item), turns is [[String: Any]] else {
                problems.append((itemName, "has no conversations or messages list, nor alpaca instruction and output"))
                continue
            }
            var images: [ExportImage] = []
            for ref in refs {
                images.append(image(at: ref.hasPrefix("/") ? URL(fileURLWithPath: ref) : directory.appendingPathComponent(ref),
                                    item: "\(itemName) image \(ref)"))
            }
            for image in images where image.error == "is missing" { problems.append((image.item, "is missing")) }
            conversations.append(ExportConversation(file: name, index: i, id: id, turns: ChatTurn.list(turns), images: images))
        }
    }

    /// An alpaca row (`instruction`, `input`, `output`, `history`) as the chat LLaMA-Factory makes of it; nil for
    /// anything else.
    static func alpacaTurns(_ item: [String: Any]) -> [[String: Any]]? {
        guard let instruction = item["instruction"] as? String, let output = item["output"] as? String else { return nil }
        var turns: [[String: Any]] = []
        for pair in (item["history"] as? [[String]]) ?? [] where pair.count == 2 {
            turns += [["role": "user", "content": pair[0]], ["role": "assistant", "content": pair[1]]]
        }
        let input = (item["input"] as? String) ?? ""
        turns += [["role": "user", "content": input.isEmpty ? instruction : instruction + "\n" + input],
                  ["role": "assistant", "content": output]]
        return turns
    }

    private mutating func readJSONLines(_ url: URL, name: String) {
        guard let data = try? Data(contentsOf: url) else { problems.append((name, "cannot be read")); return }
        let text = String(decoding: data, as: UTF8.self)
        let first = text.split(separator: "\n", maxSplits: 1).first.flatMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        if first?["question"] != nil {
            readQuestions(url, text: text, name: name)
            return
        }
        for (n, line) in Self.lines(text).enumerated() where !line.isEmpty {
            guard let object = (try? JSONSerialization.jsonObject(with: line)) as? [String: Any],
                  let messages = object["messages"] as? [[String: Any]] else {
                problems.append(("\(name) line \(n + 1)", "is neither a question nor a {\"messages\": [...]} object"))
                continue
            }
            var images: [ExportImage] = []
            for message in messages {
                for part in (message["content"] as? [[String: Any]]) ?? [] {
                    if let url = (part["image_url"] as? [String: Any])?["url"] as? String {
                        images.append(dataURLImage(url, item: "\(name) line \(n + 1) image"))
                    }
                }
            }
            conversations.append(ExportConversation(file: name, index: n + 1, id: nil, turns: ChatTurn.list(messages), images: images))
        }
    }

    /// The lines of `text` as `text.split(separator: "\n", omittingEmptySubsequences: false)` gives them, found on its
    /// UTF-8 bytes: the Character split walks grapheme clusters, most of `check`'s time over the tens of megabytes
    /// of base64 an OpenAI export holds. "\r\n" is one Character, so it ends no line there, and ends none here.
    static func lines(_ text: String) -> [Data] {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buffer -> [Data] in
            guard let base = buffer.baseAddress else { return [Data()] }
            var out: [Data] = []
            var start = 0, from = 0
            while from < buffer.count, let hit = memchr(base + from, 0x0A, buffer.count - from) {
                let i = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if i == 0 || base[i - 1] != 0x0D {
                    out.append(Data(buffer[start..<i]))
                    start = i + 1
                }
                from = i + 1
            }
            out.append(Data(buffer[start...]))
            return out
        }
    }

    /// A question file reads back through the same reader `dsbuild eval --questions` uses (`QuestionFile`).
    private mutating func readQuestions(_ url: URL, text: String, name: String) {
        let contents: QuestionFile.Contents
        do { contents = try QuestionFile.parse(text, file: name) } catch {
            problems.append((name, "does not read back: \(error)"))
            return
        }
        let parsed = QuestionFile.inferringKeywords(contents.questions)
        let images = url.deletingLastPathComponent().appendingPathComponent("images")
        for (i, question) in parsed.enumerated() {
            var exported = ExportedQuestion(file: name, line: contents.lines[i], question: question)
            if let path = question.imagePath, !path.isEmpty {
                let file = path.hasPrefix("/") ? URL(fileURLWithPath: path) : images.appendingPathComponent(path)
                exported.image = image(at: file, item: "\(exported.item) image \(path)")
                if exported.image?.error == "is missing" {
                    problems.append((exported.item, "names image \(path), which is not in the images/ folder beside it"))
                }
            }
            questions.append(exported)
        }
    }
}
