/// Splits text into lines at LF, CRLF or a lone CR, with 1-based line numbers: the one line splitter every
/// reader of user files uses (keyword files, URL lists, question files).
///
/// Splitting a `String` on the Character `"\n"` never splits a Windows file, because Swift treats `"\r\n"` as one
/// Character; this works on Unicode scalars instead. The terminators are not part of a line; a final terminator
/// does not start an extra empty line.
public enum TextLines {
    /// One line of a file and where it is.
    public struct Line: Sendable, Equatable {
        /// 1-based.
        public let number: Int
        public let text: String

        public init(number: Int, text: String) {
            self.number = number
            self.text = text
        }
    }

    public static func split(_ text: String) -> [Line] {
        var lines: [Line] = []
        var current = String.UnicodeScalarView()
        var number = 1
        var afterCR = false
        var sawAny = false
        for scalar in text.unicodeScalars {
            sawAny = true
            if afterCR {
                afterCR = false
                if scalar == "\n" { continue }
            }
            if scalar == "\n" || scalar == "\r" {
                lines.append(Line(number: number, text: String(current)))
                current = String.UnicodeScalarView()
                number += 1
                afterCR = scalar == "\r"
                continue
            }
            current.append(scalar)
        }
        if !current.isEmpty || (sawAny && lines.isEmpty) {
            lines.append(Line(number: number, text: String(current)))
        }
        return lines
    }

    /// The first line (for format sniffing), without its terminator.
    public static func first(of text: String) -> String {
        var current = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == "\n" || scalar == "\r" { break }
            current.append(scalar)
        }
        return String(current)
    }
}
