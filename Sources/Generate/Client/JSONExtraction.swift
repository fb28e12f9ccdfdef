import Foundation

/// Finds JSON in model output that was not forced into JSON mode.
public enum JSONExtraction {
    /// The first balanced `{…}` in `text` that parses as a JSON object (code fences and prose around it ignored).
    public static func firstObject(in text: String) -> String? {
        let scalars = Array(text.unicodeScalars)
        var start = 0
        while start < scalars.count {
            guard let open = scalars[start...].firstIndex(of: "{") else { return nil }
            var depth = 0
            var inString = false
            var escaped = false
            var index = open
            var closed: Int?
            while index < scalars.count {
                let c = scalars[index]
                if inString {
                    if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
                } else if c == "\"" {
                    inString = true
                } else if c == "{" {
                    depth += 1
                } else if c == "}" {
                    depth -= 1
                    if depth == 0 { closed = index; break }
                }
                index += 1
            }
            guard let end = closed else { return nil }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[open...end])
            let candidate = String(view)
            if (try? JSONSerialization.jsonObject(with: Data(candidate.utf8))) is [String: Any] { return candidate }
            start = open + 1
        }
        return nil
    }
}
