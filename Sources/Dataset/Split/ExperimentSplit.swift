import Foundation
import GRDB

/// The one place that decides the train/test split (`splits` table): per keyword and per kept (image, keyword)
/// pair. Every stage downstream (mcq, shards, exports, eval, check) reads it through `SplitMap`.
///
/// Stable by construction: a stored assignment never moves. `assign` only places what is not placed yet (a new
/// keyword, a newly kept image); re-splitting with other settings needs `refresh`. An image is a test image
/// everywhere once it is a test image for any keyword, so no test pixel can enter training under another keyword.
public enum ExperimentSplit {
    /// What an `assign` call found and did.
    public struct Assignment: Sendable, Equatable {
        public var newlyAssigned = 0
        public var testImages = 0
        public var trainImages = 0
        public var testKeywords = 0
        /// Design `image`: keywords with fewer than two kept images, which therefore have no test image.
        public var keywordsWithoutTest: [String] = []

        public init() {}
    }

    /// Raised when the stored split was made with other settings and `refresh` was not asked for.
    public struct SettingsChanged: Error, Sendable, CustomStringConvertible {
        public let stored: String
        public let requested: String
        public var description: String {
            "the workspace's split was made with \(stored); the settings now say \(requested). Keep the old settings, or pass --refresh to re-split (stored questions are re-derived)"
        }
    }

    /// The settings the stored split was made with (nil when nothing is split yet). Stages that only read the
    /// split (shards, eval, check) assign newly kept pairs with these, so they never disagree with mcq.
    public static func storedSettings(in db: Database) throws -> SplitSettings? {
        guard let json = try String.fetchOne(db, sql: "SELECT settings FROM splits ORDER BY assigned_at LIMIT 1") else { return nil }
        return try? JSONDecoder().decode(SplitSettings.self, from: Data(json.utf8))
    }

    /// Places every kept pair and keyword that has no split yet. With `refresh`, forgets the stored split first.
    @discardableResult
    public static func assign(_ settings: SplitSettings, refresh: Bool = false, in db: Database) throws -> Assignment {
        if refresh {
            try db.execute(sql: "DELETE FROM splits")
        } else if let stored = try storedSettings(in: db), stored.hash != settings.hash {
            throw SettingsChanged(stored: stored.summary, requested: settings.summary)
        }
        let now = Date().timeIntervalSince1970
        let settingsJSON = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        var result = Assignment()
        let keywords = try Row.fetchAll(db, sql: "SELECT id, text FROM keywords ORDER BY text").map { (id: $0["id"] as Int64, text: $0["text"] as String) }
        // Read a keyword at a time, not whole: the keyword rows (few) are held; a keyword's pair rows and kept
        // images are read when it is placed; whether an image is a test image anywhere, or was a train image
        // anywhere before this call (rows up to `before`), is asked of the table (`splits_by_image`).
        let before = try Int64.fetchOne(db, sql: "SELECT MAX(rowid) FROM splits") ?? 0
        var keywordSplits: [Int64: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT keyword_id, split FROM splits WHERE image_sha256 = ''") {
            keywordSplits[row["keyword_id"]] = row["split"]
        }
        func isTestImage(_ sha: String) throws -> Bool {
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM splits WHERE image_sha256 = ? AND split = 'test' LIMIT 1"), arguments: [sha]) != nil
        }
        func wasTrainImage(_ sha: String) throws -> Bool {
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM splits WHERE image_sha256 = ? AND split = 'train' AND rowid <= ? LIMIT 1"),
                              arguments: [sha, before]) != nil
        }
        func insert(_ keywordID: Int64, _ sha: String, _ split: String) throws {
            try db.cachedStatement(sql: """
                INSERT INTO splits (keyword_id, image_sha256, split, settings_hash, settings, assigned_at) VALUES (?, ?, ?, ?, ?, ?)
                """).execute(arguments: [keywordID, sha, split, settings.hash, settingsJSON, now])
            if sha.isEmpty { keywordSplits[keywordID] = split }
            result.newlyAssigned += 1
        }
        func order(_ text: String) -> String { ContentHash.sha256Hex("split|\(settings.seed)|\(text)") }

        // Keyword rows.
        switch settings.design {
        case .image:
            for keyword in keywords where keywordSplits[keyword.id] == nil { try insert(keyword.id, "", "train") }
        case .keyword:
            let target = Int((settings.testFraction * Double(keywords.count)).rounded())
            let already = keywords.filter { keywordSplits[$0.id] == "test" }.count
            let open = keywords.filter { keywordSplits[$0.id] == nil }.sorted { order($0.text) < order($1.text) }
            for (n, keyword) in open.enumerated() { try insert(keyword.id, "", n < target - already ? "test" : "train") }
        }

        // Image rows.
        for keyword in keywords {
            let images = try KeptPairs.images(of: keyword.id, in: db)
            var placed: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT image_sha256, split FROM splits WHERE keyword_id = ?", arguments: [keyword.id]) {
                placed[row["image_sha256"]] = row["split"]
            }
            switch settings.design {
            case .keyword:
                let split = placed[""] ?? "train"
                for sha in images where placed[sha] == nil { try insert(keyword.id, sha, split) }
            case .image:
                // An image already held out anywhere is held out here too.
                for sha in images where placed[sha] == nil {
                    if try isTestImage(sha) { try insert(keyword.id, sha, "test"); placed[sha] = "test" }
                }
                if images.count < 2 { result.keywordsWithoutTest.append(keyword.text) }
                let want = images.count < 2 ? 0 : min(images.count - 1,
                                                     max(settings.testImagesPerKeyword, Int((settings.testFraction * Double(images.count)).rounded(.down))))
                let have = images.filter { placed[$0] == "test" }.count
                let open = try images.filter { try placed[$0] == nil && !wasTrainImage($0) }
                    .sorted { order("\(keyword.text)|\($0)") < order("\(keyword.text)|\($1)") }
                for (n, sha) in open.enumerated() where n < want - have {
                    try insert(keyword.id, sha, "test"); placed[sha] = "test"
                }
                for sha in images where placed[sha] == nil { try insert(keyword.id, sha, "train"); placed[sha] = "train" }
            }
        }
        result.testImages = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT image_sha256) FROM splits WHERE split = 'test' AND image_sha256 != ''") ?? 0
        result.trainImages = try Int.fetchOne(db, sql: """
            SELECT COUNT(DISTINCT image_sha256) FROM splits WHERE split = 'train' AND image_sha256 != ''
               AND image_sha256 NOT IN (SELECT image_sha256 FROM splits WHERE split = 'test' AND image_sha256 != '')
            """) ?? 0
        result.testKeywords = keywordSplits.values.filter { $0 == "test" }.count
        return result
    }
}

/// A snapshot of the stored split, for the stages that read it.
public struct SplitMap: Sendable {
    public struct Pair: Hashable, Sendable {
        public let sha: String
        public let keywordID: Int64
        public init(sha: String, keywordID: Int64) { self.sha = sha; self.keywordID = keywordID }
    }

    /// Split per kept (image, keyword) pair.
    public let imageSplits: [Pair: String]
    /// Split per keyword (design `keyword`: the held-out keywords are `test`; design `image`: all `train`).
    public let keywordSplits: [Int64: String]
    /// Every image that is a test image for some keyword: it may not enter any training artifact.
    public let testImages: Set<String>
    public let testKeywords: Set<Int64>

    public static func load(in db: Database) throws -> SplitMap {
        var images: [Pair: String] = [:]
        var keywords: [Int64: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT keyword_id, image_sha256, split FROM splits") {
            let sha: String = row["image_sha256"]
            if sha.isEmpty { keywords[row["keyword_id"]] = row["split"] } else { images[Pair(sha: sha, keywordID: row["keyword_id"])] = row["split"] }
        }
        return SplitMap(imageSplits: images, keywordSplits: keywords,
                        testImages: Set(images.filter { $0.value == "test" }.map(\.key.sha)),
                        testKeywords: Set(keywords.filter { $0.value == "test" }.map(\.key)))
    }

    /// The split of a kept pair (nil when it has none: not kept, or not assigned yet).
    public func split(image sha: String, keyword keywordID: Int64) -> String? {
        if testImages.contains(sha) { return "test" }
        return imageSplits[Pair(sha: sha, keywordID: keywordID)]
    }

    /// Whether text and pixels derived from this image (under this keyword) may enter a training artifact.
    public func mayTrain(image sha: String, keyword keywordID: Int64) -> Bool {
        !testImages.contains(sha) && !testKeywords.contains(keywordID) && imageSplits[Pair(sha: sha, keywordID: keywordID)] == "train"
    }

    /// Whether keyword-level text (no image) may train: false for held-out keywords.
    public func mayTrain(keyword keywordID: Int64) -> Bool { !testKeywords.contains(keywordID) }

    /// The held-out images of a keyword, in a stable order.
    public func testImages(of keywordID: Int64) -> [String] {
        imageSplits.filter { $0.key.keywordID == keywordID && $0.value == "test" }.map(\.key.sha).sorted()
    }

    /// The training images of a keyword, in a stable order.
    public func trainImages(of keywordID: Int64) -> [String] {
        imageSplits.filter { $0.key.keywordID == keywordID && $0.value == "train" && !testImages.contains($0.key.sha) }.map(\.key.sha).sorted()
    }
}
