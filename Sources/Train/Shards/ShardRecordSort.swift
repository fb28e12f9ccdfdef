import Dataset
import Foundation
import GRDB

/// Where a record lies in the sorted order: its id (text) or key (paired), then the order it arrived in (ids
/// and keys are unique, so the second part only makes the order total).
struct SortPosition: Sendable, Equatable {
    var key: String
    var seq: Int64
}

/// An external sort of one run's records through a temporary SQLite file (`.progress/records.sqlite` under the
/// shards folder, removed when the run ends): records go in a page at a time as they are built, in any order,
/// and come back ordered by id (text) and key (paired) — whole for planning (one row at a time through a cursor),
/// and a shard's worth at a time for writing. So a run holds one page of records and one shard in memory, however
/// many images the workspace has.
///
/// A text record is kept as its JSONL line (what its shard holds and its plan hashes). A paired sample is kept
/// column by column (exactly what `PairedSample` holds, to be rebuilt for its tar), with its piece of the plan
/// hash and its planned size, which are known before any image is rendered.
final class ShardRecordSort {
    let url: URL
    private var queue: DatabaseQueue?
    private var seq: Int64 = 0

    init(at url: URL) throws {
        self.url = url
        Self.removeFiles(url)
        var config = Configuration()
        config.prepareDatabase { db in
            // Scratch data: nothing to recover after a crash (the file is made again), so no journal, no syncs.
            try db.execute(sql: "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -16384")
        }
        let queue = try DatabaseQueue(path: url.path, configuration: config)
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE text (id TEXT NOT NULL, seq INTEGER NOT NULL, line BLOB NOT NULL);
                CREATE UNIQUE INDEX text_order ON text(id, seq);
                CREATE TABLE paired (
                    key TEXT NOT NULL, seq INTEGER NOT NULL, plan BLOB NOT NULL, size INTEGER NOT NULL,
                    kind BLOB NOT NULL, keyword BLOB NOT NULL, category BLOB, aspect BLOB, language BLOB NOT NULL,
                    text BLOB NOT NULL, messages BLOB NOT NULL,
                    model BLOB, template_sha256 BLOB, mode BLOB, source BLOB, license BLOB, author BLOB, page_url BLOB,
                    image_url BLOB, image_sha256 TEXT NOT NULL, path BLOB NOT NULL, format TEXT NOT NULL, orientation INTEGER NOT NULL,
                    bytes INTEGER NOT NULL, width INTEGER, height INTEGER, exif BLOB);
                CREATE UNIQUE INDEX paired_order ON paired(key, seq);
                """)
        }
        self.queue = queue
    }

    /// Adds one page of records: text records as their lines, paired samples with their plan-hash piece and size.
    func add(text: [(id: String, line: Data)], paired: [(sample: PairedSample, plan: Data, size: Int)]) throws {
        try database.inTransaction { db in
            let insertText = try db.cachedStatement(sql: "INSERT INTO text (id, seq, line) VALUES (?, ?, ?)")
            for record in text {
                seq += 1
                try insertText.execute(arguments: [record.id, seq, record.line])
            }
            let insertPaired = try db.cachedStatement(sql: """
                INSERT INTO paired (key, seq, plan, size, kind, keyword, category, aspect, language, text, messages, model,
                                    template_sha256, mode, source, license, author, page_url, image_url, image_sha256, path, format,
                                    orientation, bytes, width, height, exif)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for (s, plan, size) in paired {
                seq += 1
                let p = s.provenance, image = s.image
                let messages = try JSONSerialization.data(withJSONObject: s.messages.map { [$0.role, $0.content] })
                var arguments: StatementArguments = [s.key, seq, plan, size]
                arguments += StatementArguments([s.kind, s.keyword, s.category, s.aspect, s.language, s.text].map(Self.utf8))
                arguments += [messages]
                arguments += StatementArguments([p.model, p.templateSHA256, p.mode, p.source, p.license, p.author, p.pageURL, p.imageURL].map(Self.utf8))
                arguments += [image.sha, Self.utf8(image.path), image.format, image.orientation, image.bytes, image.width, image.height,
                              Self.utf8(image.exif)]
                try insertPaired.execute(arguments: arguments)
            }
            return .commit
        }
    }

    /// Every text line in id order, with its position.
    func eachTextLine(_ body: (SortPosition, Data) throws -> Void) throws {
        try database.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT id, seq, line FROM text ORDER BY id, seq")
            while let row = try rows.next() { try body(SortPosition(key: row[0], seq: row[1]), row[2]) }
        }
    }

    /// Every paired sample's plan-hash piece and planned size in key order, with its position.
    func eachPairedPlan(_ body: (SortPosition, Data, Int) throws -> Void) throws {
        try database.read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT key, seq, plan, size FROM paired ORDER BY key, seq")
            while let row = try rows.next() { try body(SortPosition(key: row[0], seq: row[1]), row[2], row[3]) }
        }
    }

    /// `count` text lines in id order from `first` on.
    func textLines(from first: SortPosition, count: Int) throws -> [Data] {
        try database.read { db in
            try Data.fetchAll(db, sql: "SELECT line FROM text WHERE (id, seq) >= (?, ?) ORDER BY id, seq LIMIT ?",
                              arguments: [first.key, first.seq, count])
        }
    }

    /// `count` paired samples in key order from `first` on.
    func pairedSamples(from first: SortPosition, count: Int) throws -> [PairedSample] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM paired WHERE (key, seq) >= (?, ?) ORDER BY key, seq LIMIT ?",
                             arguments: [first.key, first.seq, count]).map(Self.sample)
        }
    }

    /// The distinct images of the paired samples, grouped by what decides how each is written (format and
    /// orientation): a stand-in of each group with the number of distinct images in it.
    func imageGroups() throws -> [(image: StoredImage, count: Int)] {
        try database.read { db in
            try Row.fetchAll(db, sql: """
                SELECT format, orientation, COUNT(DISTINCT image_sha256) AS n FROM paired GROUP BY format, orientation ORDER BY format, orientation
                """).map { row in
                (StoredImage(sha: "", path: "", format: row["format"], orientation: row["orientation"], bytes: 0, width: nil, height: nil),
                 row["n"] as Int)
            }
        }
    }

    /// Closes the file and removes it.
    func remove() {
        try? queue?.close()
        queue = nil
        Self.removeFiles(url)
    }

    deinit { remove() }

    private var database: DatabaseQueue {
        get throws {
            guard let queue else { throw ShardError(.write, "the record sort file \(url.path) was already removed") }
            return queue
        }
    }

    private static func removeFiles(_ url: URL) {
        for suffix in ["", "-journal", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: url.path + suffix)
        }
    }

    // Free text is stored as UTF-8 blobs (a TEXT column would come back cut at a NUL character) after one marker
    // byte, so that an empty string is a one-byte blob and never reads back as NULL (nil).
    private static func utf8(_ text: String?) -> Data? { text.map { Data([1]) + Data($0.utf8) } }

    private static func string(_ row: Row, _ column: String) -> String? {
        (row[column] as Data?).map { String(decoding: $0.dropFirst(), as: UTF8.self) }
    }

    private static func sample(_ row: Row) -> PairedSample {
        let pairs = (try? JSONSerialization.jsonObject(with: row["messages"] as Data)) as? [[String]] ?? []
        let provenance = Provenance(model: string(row, "model"), templateSHA256: string(row, "template_sha256"), mode: string(row, "mode"),
                                    source: string(row, "source"), license: string(row, "license"), author: string(row, "author"),
                                    pageURL: string(row, "page_url"), imageURL: string(row, "image_url"))
        let image = StoredImage(sha: row["image_sha256"], path: string(row, "path") ?? "", format: row["format"], orientation: row["orientation"],
                                bytes: row["bytes"], width: row["width"], height: row["height"], exif: string(row, "exif"))
        return PairedSample(key: row["key"], kind: string(row, "kind") ?? "", keyword: string(row, "keyword") ?? "",
                            category: string(row, "category"), aspect: string(row, "aspect"), language: string(row, "language") ?? "",
                            text: string(row, "text") ?? "", messages: pairs.map { (role: $0[0], content: $0[1]) },
                            provenance: provenance, image: image)
    }
}
