/// An RFC 4180 reader for CSV and TSV text that keeps the line number of each record, so a malformed record
/// can be reported where it is. Quoted fields may hold the delimiter, doubled quotes and newlines.
///
/// Written here rather than taken from a CSV package because the available ones neither report line numbers
/// nor reject an unterminated quote, and both are what a user needs to fix a bad input file.
public struct DelimitedTextReader: Sendable {
    public struct Record: Sendable, Equatable {
        public let line: Int
        public let fields: [String]
    }

    public struct Failure: Error, Sendable, Equatable {
        public let line: Int
        public let message: String
    }

    public let delimiter: Character

    public init(delimiter: Character) {
        self.delimiter = delimiter
    }

    /// Splits `text` into records. Blank lines are skipped. A record with a quote problem becomes a failure
    /// and reading resumes at the next line.
    public func records(in text: String) -> [Result<Record, Failure>] {
        var parser = Parser(delimiter: delimiter)
        return parser.read(text) + parser.finish()
    }

    /// The reader's state across pieces of one text, for a file read a piece at a time: `read` each piece in order
    /// (each ending just after a line terminator, as `records(in:)` would see it whole), then `finish`. A quoted
    /// field may run across pieces; the records and failures are those of the whole text.
    public struct Parser: Sendable {
        public let delimiter: Character
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var fieldWasQuoted = false
        var afterQuote = false
        var line = 1
        var recordLine = 1
        var recordHasContent = false
        var broken: String?

        public init(delimiter: Character) {
            self.delimiter = delimiter
        }

        /// The records that end in `piece`.
        public mutating func read(_ piece: String) -> [Result<Record, Failure>] {
            var results: [Result<Record, Failure>] = []
            var iterator = piece.makeIterator()
            var pending: Character?
            while let ch = pending ?? iterator.next() {
                pending = nil
                if inQuotes {
                    if ch == "\"" {
                        if let next = iterator.next() {
                            if next == "\"" {
                                field.append("\"")
                            } else {
                                inQuotes = false
                                afterQuote = true
                                pending = next
                            }
                        } else {
                            inQuotes = false
                            afterQuote = true
                        }
                    } else {
                        if ch == "\n" || ch == "\r\n" { line += 1 }
                        field.append(ch)
                    }
                    continue
                }
                switch ch {
                case "\n", "\r\n", "\r":
                    endRecord(into: &results)
                    line += 1
                    recordLine = line
                case delimiter:
                    fields.append(field)
                    field = ""
                    fieldWasQuoted = false
                    afterQuote = false
                    recordHasContent = true
                case "\"" where field.isEmpty && !fieldWasQuoted:
                    inQuotes = true
                    fieldWasQuoted = true
                    recordHasContent = true
                default:
                    if afterQuote, broken == nil {
                        broken = "unexpected text after a closing quote"
                    }
                    if ch == "\"", broken == nil {
                        broken = "a quote inside an unquoted field (quote the whole field and double inner quotes)"
                    }
                    field.append(ch)
                    recordHasContent = true
                }
            }
            return results
        }

        /// The last record, at the end of the text (an open quote is its failure).
        public mutating func finish() -> [Result<Record, Failure>] {
            var results: [Result<Record, Failure>] = []
            if inQuotes {
                broken = broken ?? "unterminated quoted field"
            }
            endRecord(into: &results)
            return results
        }

        private mutating func endRecord(into results: inout [Result<Record, Failure>]) {
            if let problem = broken {
                results.append(.failure(Failure(line: recordLine, message: problem)))
            } else if recordHasContent || !fields.isEmpty {
                fields.append(field)
                results.append(.success(Record(line: recordLine, fields: fields)))
            }
            fields = []
            field = ""
            fieldWasQuoted = false
            afterQuote = false
            recordHasContent = false
            broken = nil
        }
    }
}
