import Foundation

/// Reads a UTF-8 text file a block at a time, each piece ending just after a line terminator (LF, CRLF or a lone
/// CR; the last piece may end without one), so a line — and a CRLF — is never cut between pieces and a reader can
/// parse the file piece by piece with the same result as parsing it whole. A leading byte-order mark is dropped.
struct TextFileChunks {
    let file: URL
    /// Bytes read at a time; a piece is at least one whole line, so a longer line makes a longer piece.
    var blockBytes = 1 << 20

    /// Calls `body` with each piece in order; an unreadable file or bytes that are not UTF-8 are a `CollectError`
    /// naming the file (and the line near the bad bytes). What `body` throws comes out as thrown.
    func forEach(_ body: (String) throws -> Void) throws {
        let handle: FileHandle
        do {
            handle = try FileHandle(forReadingFrom: file)
        } catch {
            throw CollectError(.unreadableInput, item: file.path, detail: error.localizedDescription)
        }
        defer { try? handle.close() }
        var carried: [UInt8] = []
        var linesBefore = 0
        var first = true
        while true {
            let block: Data?
            do {
                block = try handle.read(upToCount: blockBytes)
            } catch {
                throw CollectError(.unreadableInput, item: file.path, detail: error.localizedDescription)
            }
            let atEnd = block?.isEmpty ?? true
            if let block { carried.append(contentsOf: block) }
            if first {
                if carried.count < 3 && !atEnd { continue }
                if carried.starts(with: [0xEF, 0xBB, 0xBF]) { carried.removeFirst(3) }
                first = false
            }
            guard let cut = atEnd ? carried.count : Self.cut(carried), cut > 0 else {
                if atEnd { return }
                continue
            }
            guard let text = String(validating: carried[..<cut], as: UTF8.self) else {
                throw CollectError(.unreadableInput, item: file.path,
                                   detail: "not UTF-8 text (after line \(linesBefore)); save the list as UTF-8")
            }
            linesBefore += Self.lineEnds(carried[..<cut])
            carried.removeFirst(cut)
            try body(text)
            if atEnd { return }
        }
    }

    /// How many lines end in `bytes` (LF, CRLF, or a lone CR).
    static func lineEnds(_ bytes: ArraySlice<UInt8>) -> Int {
        var count = 0
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == 0x0A ? previous != 0x0D : byte == 0x0D { count += 1 }
            previous = byte
        }
        return count
    }

    /// Where the bytes can be cut: just after their last line terminator whose end is known (a CR as the very last
    /// byte may be the first half of a CRLF); nil when there is none yet.
    static func cut(_ bytes: [UInt8]) -> Int? {
        var i = bytes.count - 1
        while i >= 0 {
            if bytes[i] == 0x0A || (bytes[i] == 0x0D && i + 1 < bytes.count) { return i + 1 }
            i -= 1
        }
        return nil
    }
}
