import Foundation

/// The string-valued metadata of a GGUF file (its key-value header: `general.architecture`, `general.name`,
/// `tokenizer.chat_template`…), read from the file's start as the GGUF format lays it out (magic `GGUF`, version
/// 2 or 3, tensor count, key-value count, then each key and its typed value, little-endian). Arrays (the
/// vocabulary) are stepped over, not kept.
public struct GGUFMetadata: Sendable, Equatable {
    public let version: UInt32
    public let strings: [String: String]

    /// The chat template the file carries; nil for a model without one (a pretrained base model).
    public var chatTemplate: String? { strings["tokenizer.chat_template"].flatMap { $0.isEmpty ? nil : $0 } }
    public var architecture: String? { strings["general.architecture"] }
    public var name: String? { strings["general.name"] }

    /// What went wrong reading a header.
    public struct ReadError: Error, CustomStringConvertible, Equatable {
        public let file: String
        public let detail: String
        public var description: String { "\(file) is not a readable GGUF file: \(detail)" }
    }

    /// Reads `file`'s header (memory-mapped: the vocabulary is skipped in place, the weights never touched).
    public static func read(_ file: URL) throws(ReadError) -> GGUFMetadata {
        let data: Data
        do { data = try Data(contentsOf: file, options: .alwaysMapped) } catch {
            throw ReadError(file: file.path, detail: error.localizedDescription)
        }
        var reader = Reader(data: data)
        do {
            return try reader.metadata()
        } catch let error as Reader.Failure {
            throw ReadError(file: file.path, detail: error.detail)
        } catch {
            throw ReadError(file: file.path, detail: "\(error)")
        }
    }

    private struct Reader {
        struct Failure: Error { let detail: String }
        let data: Data
        var offset = 0

        init(data: Data) { self.data = data }

        mutating func metadata() throws -> GGUFMetadata {
            guard try bytes(4) == Data("GGUF".utf8) else { throw Failure(detail: "no GGUF magic at its start") }
            let version: UInt32 = try integer()
            guard version == 2 || version == 3 else { throw Failure(detail: "GGUF version \(version) (2 and 3 are read)") }
            let _: UInt64 = try integer()
            let count: UInt64 = try integer()
            guard count < 1 << 20 else { throw Failure(detail: "\(count) metadata entries") }
            var strings: [String: String] = [:]
            for _ in 0..<count {
                let key = try string()
                let type: UInt32 = try integer()
                if type == 8 { strings[key] = try string() } else { try skip(type: type, depth: 0) }
            }
            return GGUFMetadata(version: version, strings: strings)
        }

        mutating func bytes(_ count: Int) throws -> Data {
            guard count >= 0, offset + count <= data.count else { throw Failure(detail: "the header ends early (at byte \(offset))") }
            defer { offset += count }
            return data.subdata(in: data.startIndex + offset ..< data.startIndex + offset + count)
        }

        mutating func integer<T: FixedWidthInteger>() throws -> T {
            let raw = try bytes(MemoryLayout<T>.size)
            var value: T = 0
            for (index, byte) in raw.enumerated() { value |= T(byte) << (8 * index) }
            return value
        }

        mutating func string() throws -> String {
            let length: UInt64 = try integer()
            guard length <= UInt64(data.count - offset) else { throw Failure(detail: "a string of \(length) bytes past the file's end") }
            return String(decoding: try bytes(Int(length)), as: UTF8.self)
        }

        /// Arrays of arrays nested deeper than this are refused (GGUF writers nest one level at most; a hostile
        /// file nested thousands deep would exhaust the stack of a recursive walk).
        static let maxNesting = 8

        /// Steps over a value of GGUF type `type` (0–7, 10–12 scalars, 8 string, 9 array) at array depth `depth`.
        mutating func skip(type: UInt32, depth: Int) throws {
            switch type {
            case 0, 1, 7: offset += 1
            case 2, 3: offset += 2
            case 4, 5, 6: offset += 4
            case 10, 11, 12: offset += 8
            case 8: _ = try string()
            case 9:
                guard depth < Self.maxNesting else { throw Failure(detail: "arrays nested deeper than \(Self.maxNesting) levels") }
                let element: UInt32 = try integer()
                let count: UInt64 = try integer()
                guard count <= UInt64(data.count) else { throw Failure(detail: "an array of \(count) values") }
                for _ in 0..<count { try skip(type: element, depth: depth + 1) }
            default: throw Failure(detail: "unknown value type \(type) at byte \(offset)")
            }
            guard offset <= data.count else { throw Failure(detail: "the header ends early") }
        }
    }
}
