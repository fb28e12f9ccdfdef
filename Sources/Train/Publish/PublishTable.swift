import Foundation

/// A column's type in a published table, as `trainer/parquet_write.py` reads it (and as the card and
/// `croissant.json` describe it).
indirect enum PublishColumnType: Sendable {
    case string, int64, bool, image
    case list(PublishColumnType)
    case structure([PublishColumn])

    var json: Any {
        switch self {
        case .string: "string"
        case .int64: "int64"
        case .bool: "bool"
        case .image: "image"
        case .list(let element): ["list": element.json]
        case .structure(let fields): ["struct": fields.map(\.json)]
        }
    }

    /// The Croissant `dataType` of a leaf column.
    var croissantType: String {
        switch self {
        case .string: "sc:Text"
        case .int64: "sc:Integer"
        case .bool: "sc:Boolean"
        case .image: "sc:ImageObject"
        case .list, .structure: "sc:Text"
        }
    }
}

/// One named column.
struct PublishColumn: Sendable {
    var name: String
    var type: PublishColumnType
    /// What it holds, for the card.
    var help: String

    init(_ name: String, _ type: PublishColumnType, _ help: String = "") {
        self.name = name
        self.type = type
        self.help = help
    }

    var json: [String: Any] { ["name": name, "type": type.json] }
}

/// One config of the release (`paired`, `text`, `mcq`): its columns and its rows per split.
struct PublishTable {
    var config: String
    var columns: [PublishColumn]
    /// Rows per split (`train`, `test`), each a JSON object keyed by column name; an image value is
    /// `{"path": NAME, "file": ABSOLUTE PATH}`.
    var splits: [(name: String, rows: [PublishRow])]
    /// What one row is, for the card.
    var rowMeaning: String
}

/// One row: its JSON object and roughly how many bytes it adds to a parquet file (the image's, mostly).
struct PublishRow {
    var object: [String: Any]
    var bytes: Int
}

/// A parquet file to write: the config and split it belongs to, its path in the folder and its rows.
struct PublishFile {
    var config: String
    var split: String
    /// Relative to the release folder (`paired/train-00000.parquet`).
    var path: String
    var columns: [PublishColumn]
    var rows: [PublishRow]

    /// The rows as JSON lines (sorted keys: the same rows are the same bytes).
    func rowsJSONL() throws -> Data {
        var data = Data()
        for row in rows {
            data.append(try JSONSerialization.data(withJSONObject: row.object, options: [.sortedKeys, .withoutEscapingSlashes]))
            data.append(0x0A)
        }
        return data
    }

    /// Splits a table's rows into files of at most `maxBytes` (a file holds at least one row; a split without rows
    /// has no file: a 0-row parquet breaks readers).
    static func files(of table: PublishTable, maxBytes: Int) -> [PublishFile] {
        var out: [PublishFile] = []
        for split in table.splits where !split.rows.isEmpty {
            var parts: [[PublishRow]] = [[]]
            var size = 0
            for row in split.rows {
                if !parts[parts.count - 1].isEmpty && size + row.bytes > maxBytes {
                    parts.append([])
                    size = 0
                }
                parts[parts.count - 1].append(row)
                size += row.bytes
            }
            for (i, rows) in parts.enumerated() {
                out.append(PublishFile(config: table.config, split: split.name,
                                       path: "\(table.config)/\(split.name)-\(String(format: "%05d", i)).parquet",
                                       columns: table.columns, rows: rows))
            }
        }
        return out
    }
}
