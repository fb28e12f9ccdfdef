import Dataset
import Logging
import Foundation
import Synchronization

/// Paths and helpers shared by the test targets.
public enum TestPaths {
    /// The repository root (found from this file's location).
    public static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// `../shared/data` beside the repository, as CI has it.
    public static let sharedData: URL = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data")

    public static let kViscuit: URL = sharedData.appendingPathComponent("k-viscuit")
    public static let kViscuitAnnotations: URL = kViscuit.appendingPathComponent("annotations.jsonl")
    public static let kViscuitImages: URL = kViscuit.appendingPathComponent("images")
}

/// A temporary directory removed when the value is released.
public final class TemporaryDirectory: @unchecked Sendable {
    public let url: URL

    public init(_ prefix: String = "dsbuild-test") {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func path(_ name: String) -> URL { url.appendingPathComponent(name) }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// A directory for a fixture a whole suite shares (held in a `static`, so never deinitialized): removed when
    /// the test process exits, so a run leaves no workspace behind in the temporary folder.
    public static func shared(_ prefix: String) -> TemporaryDirectory {
        let directory = TemporaryDirectory(prefix)
        SharedDirectories.register(directory.url)
        return directory
    }
}

/// The suite-shared temporary directories, removed by an `atexit` handler.
private enum SharedDirectories {
    static let urls = Mutex<[URL]>([])
    static let installed = Mutex(false)

    static func register(_ url: URL) {
        urls.withLock { $0.append(url) }
        let first = installed.withLock { done in defer { done = true }; return !done }
        if first { atexit { SharedDirectories.removeAll() } }
    }

    static func removeAll() {
        for url in urls.withLock({ $0 }) { try? FileManager.default.removeItem(at: url) }
    }
}

/// The K-Viscuit keywords: the correct option of each Type 1 question, with its category.
public enum KViscuitFixture {
    public struct Item: Sendable {
        public let keyword: String
        public let category: String
        public let imagePath: String
        public let imageURL: String
    }

    public static func type1Items() throws -> [Item] {
        let text = try String(contentsOf: TestPaths.kViscuitAnnotations, encoding: .utf8)
        var items: [Item] = []
        for line in text.split(separator: "\n") {
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  (object["question_type"] as? Int) == 1,
                  let options = object["options"] as? [String], let answer = object["answer"] as? Int
            else { continue }
            items.append(Item(keyword: options[answer], category: object["category"] as? String ?? "",
                              imagePath: object["image_path"] as? String ?? "", imageURL: object["image_url"] as? String ?? ""))
        }
        return items
    }
}

extension StageRunner {
    /// A runner for a workspace that shows no progress (what a test hands a pipeline instead of the command's).
    public static func quiet(_ workspace: Workspace) -> StageRunner {
        StageRunner(manifest: workspace.manifest, progress: ProgressReporter(style: .quiet), logger: Logger(label: "test"))
    }
}
