import CLibXML2
import Foundation

/// Strips an HTML fragment (Commons' `extmetadata` values: `<a href="…">Jane Doe</a>`, `<p>…</p>`) to its text,
/// with libxml2's HTML parser: no network, no entity loading, errors ignored (fragments are rarely well formed).
public enum HTMLText {
    private static let initialised: Bool = {
        xmlInitParser()
        return true
    }()

    public static func plainText(_ html: String) -> String {
        guard html.contains("<") || html.contains("&") else { return collapse(html) }
        _ = initialised
        let wrapped = "<html><body>\(html)</body></html>"
        let options = Int32(HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue | HTML_PARSE_NONET.rawValue
                            | HTML_PARSE_RECOVER.rawValue)
        let bytes = Array(wrapped.utf8)
        let document = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { pointer in
                htmlReadMemory(pointer, Int32(buffer.count), nil, "UTF-8", options)
            }
        }
        guard let document else { return collapse(html) }
        defer { xmlFreeDoc(document) }
        guard let root = xmlDocGetRootElement(document) else { return "" }
        var text = ""
        appendText(of: root, to: &text)
        return collapse(text)
    }

    /// Elements that separate words: their text is set off by spaces (`<li>a</li><li>b</li>` → `a b`).
    private static let blocks: Set<String> = [
        "p", "div", "br", "li", "ul", "ol", "tr", "td", "th", "table", "h1", "h2", "h3", "h4", "h5", "h6", "dd", "dt",
        "dl", "blockquote", "hr", "section",
    ]

    private static func appendText(of node: xmlNodePtr, to text: inout String) {
        var child = node.pointee.children
        while let current = child {
            switch current.pointee.type {
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = current.pointee.content { text += String(cString: content) }
            case XML_ELEMENT_NODE:
                let name = current.pointee.name.map { String(cString: $0).lowercased() } ?? ""
                let block = blocks.contains(name)
                if block { text += " " }
                appendText(of: current, to: &text)
                if block { text += " " }
            default:
                break
            }
            child = current.pointee.next
        }
    }

    /// Folds runs of white space (newlines included) to one space and trims the ends.
    static func collapse(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }
}
