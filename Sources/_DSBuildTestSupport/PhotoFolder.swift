import Foundation

/// The `directory` source's input as a user would lay it out: `root/<keyword>/<file>`, each image with an
/// img2dataset-style attribution sidecar (`<stem>.json`: `license`, `author`, `page_url`, `url`), so the images
/// collected from it carry complete provenance — as images from Commons or Flickr do.
public struct PhotoFolder: Sendable {
    public let root: URL

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    /// The attribution written beside an image.
    public struct Attribution: Sendable {
        public var license: String
        public var author: String
        public var pageURL: String
        public var url: String?

        public init(license: String, author: String, pageURL: String, url: String? = nil) {
            self.license = license
            self.author = author
            self.pageURL = pageURL
            self.url = url
        }

        /// A K-Viscuit image: CC BY 4.0 as published with the benchmark, its Commons page and file URL.
        public static func kViscuit(_ item: KViscuitFixture.Item) -> Attribution {
            let stem = (item.imagePath as NSString).deletingPathExtension
            let page = "https://commons.wikimedia.org/wiki/File:" + (URL(string: item.imageURL)?.lastPathComponent ?? stem)
            return Attribution(license: "CC BY 4.0", author: "K-Viscuit (Baek et al.)", pageURL: page,
                               url: item.imageURL.isEmpty ? nil : item.imageURL)
        }

        /// An image made by a test (`ImageFactory`): public domain, the test suite as its author.
        public static func madeByTest(_ name: String) -> Attribution {
            Attribution(license: "CC0 1.0", author: "dsbuild test suite", pageURL: "https://example.org/dsbuild-tests/\(name)")
        }
    }

    /// Writes `data` as `root/<keyword>/<name>` and its sidecar; returns the image's URL.
    @discardableResult
    public func add(_ data: Data, named name: String, keyword: String, attribution: Attribution?) throws -> URL {
        let folder = root.appendingPathComponent(keyword)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent(name)
        try data.write(to: file)
        if let attribution {
            var sidecar: [String: Any] = ["license": attribution.license, "author": attribution.author, "page_url": attribution.pageURL]
            if let url = attribution.url { sidecar["url"] = url }
            let stem = (name as NSString).deletingPathExtension
            try JSONSerialization.data(withJSONObject: sidecar, options: [.sortedKeys, .withoutEscapingSlashes])
                .write(to: folder.appendingPathComponent(stem + ".json"))
        }
        return file
    }

    /// Copies a K-Viscuit image (under its own file name, or `name`) into the keyword's folder, attributed.
    @discardableResult
    public func add(_ item: KViscuitFixture.Item, keyword: String, named name: String? = nil) throws -> URL {
        let data = try Data(contentsOf: TestPaths.kViscuitImages.appendingPathComponent(item.imagePath))
        return try add(data, named: name ?? item.imagePath, keyword: keyword, attribution: .kViscuit(item))
    }
}
