import Dataset
import Foundation
import GRDB
import _DSBuildTestSupport

/// A workspace built through the commands (init → collect from a folder of real K-Viscuit images → filter →
/// describe → mcq → shards, with the loopback chat fake), as the review tests start from.
struct ReviewWorkspace {
    let tmp: TemporaryDirectory
    let chat: LoopbackHTTPServer
    let cli: CommandRunner
    var root: URL { tmp.path("ws") }
    var recipe: URL { tmp.path("recipe.yaml") }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// Builds one (the same photos, keywords and fake replies each time: two builds hold the same items).
    static func build(_ prefix: String) throws -> ReviewWorkspace {
        let tmp = TemporaryDirectory(prefix)
        try buildPhotos(in: tmp)
        let chat = try FakeChatEndpoint(responder: PipelineChatResponder.respond).serve()
        let cli = CommandRunner(environment: ["OPENAI_BASE_URL": chat.url("/v1").absoluteString, "OPENAI_API_KEY": "sk-review-test"])
        let ws = ReviewWorkspace(tmp: tmp, chat: chat, cli: cli)
        try ws.run(["init", ws.root.path, "--keywords", tmp.path("keywords.csv").path, "--recipe", ws.recipe.path, "--quiet"])
        try ws.run(["collect", "--workspace", ws.root.path, "--sources", "directory", "--source-file", tmp.path("photos").path, "--quiet"])
        for command in ["filter", "describe", "mcq", "shards"] { try ws.run([command, "--workspace", ws.root.path, "--quiet"]) }
        return ws
    }

    /// Runs a command; a non-zero exit is a failure naming it.
    @discardableResult
    func run(_ arguments: [String]) throws -> CommandRunner.Result {
        let result = try cli.run(arguments)
        guard result.status == 0 else { throw Failure("\(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)") }
        return result
    }

    func status() throws -> [String: Any] { try run(["status", "--workspace", root.path, "--json"]).json() }

    func open() throws -> Workspace { try Workspace.open(at: root) }

    /// Every file of the shard folder as text (tar members included: they are stored uncompressed).
    func shardBytes() throws -> String {
        var all = ""
        let folder = root.appendingPathComponent("shards")
        for case let file as URL in FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) ?? .init() {
            if let data = try? Data(contentsOf: file) { all += String(decoding: data, as: UTF8.self) }
        }
        return all
    }

    /// `photos/<keyword>/<n>.jpg` with an img2dataset-style sidecar each: 8 keywords of one category (one of them
    /// non-ASCII as K-Viscuit's are), two real images each;
    /// the first also an EXIF-rotated and a greyscale JPEG.
    private static func buildPhotos(in tmp: TemporaryDirectory) throws {
        let items = try KViscuitFixture.type1Items().filter {
            !$0.keyword.contains("/") && FileManager.default.fileExists(atPath: TestPaths.kViscuitImages.appendingPathComponent($0.imagePath).path)
        }
        var byCategory: [String: [KViscuitFixture.Item]] = [:]
        var seen = Set<String>()
        for item in items where seen.insert(item.keyword).inserted { byCategory[item.category, default: []].append(item) }
        let category = byCategory.keys.sorted().max { byCategory[$0]!.count < byCategory[$1]!.count }!
        let chosen = Array(byCategory[category]!.prefix(8))
        let chosenImages = Set(chosen.map(\.imagePath))
        var spare = items.filter { !chosenImages.contains($0.imagePath) }.makeIterator()
        var csv = "keyword,category\n"
        let photos = try PhotoFolder(root: tmp.path("photos"))
        for item in chosen {
            csv += "\"\(item.keyword.replacingOccurrences(of: "\"", with: "\"\""))\",\(category.lowercased())\n"
            try photos.add(item, keyword: item.keyword)
            if let extra = spare.next() { try photos.add(extra, keyword: item.keyword) }
        }
        // Inputs like the world's beside them: a camera JPEG stored landscape with EXIF orientation 6 (shown
        // portrait; its bright corner is the stored top-left, shown top-right) and a greyscale JPEG.
        let first = chosen[0].keyword
        try photos.add(ImageFactory.blockJPEG(width: 320, height: 200, orientation: 6) { bx, by in bx < 4 && by < 4 ? [235, 128, 128] : [30, 128, 128] },
                       named: "rotated.jpg", keyword: first, attribution: .madeByTest("rotated"))
        try photos.add(ImageFactory.blockJPEG(width: 240, height: 240, components: 1) { bx, by in [UInt8((bx * 13 + by * 7) % 200 + 20)] },
                       named: "grey.jpg", keyword: first, attribution: .madeByTest("grey"))
        try csv.write(to: tmp.path("keywords.csv"), atomically: true, encoding: .utf8)
        try """
            name: review
            llm:
              model: fake-model
              concurrency: 4
            filter:
              min_short_side: 100
              aspect_ratio: [0.3, 3.0]
            describe:
              aspects: [visual]
              modes: [text-only, image-grounded]
              languages: [en]
              images_per_keyword: 4
              concurrency: 4
            mcq:
              types: [1, 2]
              split_by: image
              test_fraction: 0.25
              seed: 7
              concurrency: 4
            shards:
              out: shards
              shard_size: 8
            """.write(to: tmp.path("recipe.yaml"), atomically: true, encoding: .utf8)
    }

    // MARK: Reading the outcome (the manifest is read, never written, by the tests)

    /// Kept (image, keyword text) pairs, by keyword.
    func kept() throws -> [String: Set<String>] {
        try open().manifest.read { db in
            var out: [String: Set<String>] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT k.text, p.image_sha256 FROM kept_pairs p JOIN keywords k ON k.id = p.keyword_id") {
                out[row[0], default: []].insert(row[1])
            }
            return out
        }
    }
}
