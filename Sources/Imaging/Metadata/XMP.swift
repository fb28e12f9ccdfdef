import Foundation
import CLibXML2

/// XMP packet parsing with libxml2 (no network, no entity substitution). Properties are matched by
/// namespace URI and local name, in both the attribute form (`<rdf:Description photoshop:Credit="…">`)
/// and the element form, including `rdf:Alt` / `rdf:Seq` / `rdf:Bag` list values and nested structs
/// such as `plus:Licensor`.
enum XMP {
    static let rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    static let dc = "http://purl.org/dc/elements/1.1/"
    static let xmpRights = "http://ns.adobe.com/xap/1.0/rights/"
    static let photoshop = "http://ns.adobe.com/photoshop/1.0/"
    static let plus = "http://ns.useplus.org/ldf/xmp/1.0/"
    static let iptcExt = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
    static let gettyGIFT = "http://xmp.gettyimages.com/gift/1.0/"

    private static let parserReady: Void = { xmlInitParser() }()

    /// Substrings of the namespace URIs above; a packet declaring none of them has nothing we read,
    /// so libxml2 is skipped (most camera and editor XMP).
    private static let namespaceMarkers: [[UInt8]] = [
        "purl.org/dc/elements", "xap/1.0/rights", "ns.adobe.com/photoshop", "ns.useplus.org", "Iptc4xmpExt",
        "xmp.gettyimages.com",
    ].map { Array($0.utf8) }

    /// Qualified names of the properties we read always appear as `prefix:LocalName` (XMP writers do not
    /// use default namespaces for properties), so a packet with none of these has nothing for us.
    private static let propertyMarkers: [[UInt8]] = [
        ":rights", ":creator", ":Credit", ":Source", ":WebStatement", ":Marked", ":UsageTerms", ":Owner",
        ":Licensor", ":DataMining", ":DigitalSourceType", ":AssetID",
    ].map { Array($0.utf8) }

    /// Cheap pre-check so libxml2 runs only on packets that can hold a field we keep (most camera and
    /// editor XMP — history, document IDs, colour settings — is skipped).
    static func mayContainRights(_ bytes: UnsafeRawBufferPointer) -> Bool {
        namespaceMarkers.contains { contains(bytes, $0) } && propertyMarkers.contains { contains(bytes, $0) }
    }

    static func contains(_ hay: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        let n = needle.count, first = needle[0]
        guard hay.count >= n else { return false }
        let base = hay.baseAddress!
        var i = 0
        let last = hay.count - n
        while i <= last {
            guard let hit = memchr(base + i, Int32(first), last - i + 1) else { return false }
            i = base.distance(to: UnsafeRawPointer(hit))
            var j = 1
            while j < n && hay[i + j] == needle[j] { j += 1 }
            if j == n { return true }
            i += 1
        }
        return false
    }

    /// Parse an XMP packet. Returns nil when it is not well-formed XML.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> EmbeddedRights? {
        guard mayContainRights(bytes) else { return EmbeddedRights() }
        _ = parserReady
        guard bytes.count > 0, bytes.count < Int(Int32.max), let base = bytes.baseAddress else { return nil }
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)
        guard let doc = xmlReadMemory(base.assumingMemoryBound(to: CChar.self), Int32(bytes.count), nil, nil, options)
        else { return nil }
        defer { xmlFreeDoc(doc) }
        var rights = EmbeddedRights()
        if let root = xmlDocGetRootElement(doc) { walk(root, into: &rights, depth: 0) }
        return rights
    }

    private static func string(_ p: UnsafePointer<xmlChar>?) -> String? {
        guard let p else { return nil }
        return String(cString: p)
    }

    private static func nsURI(_ ns: UnsafeMutablePointer<xmlNs>?) -> String? { string(ns?.pointee.href) }

    /// Concatenated text of a node's direct text/CDATA children, trimmed; nil if there are element children.
    private static func simpleText(_ node: xmlNodePtr) -> String? {
        var text = ""
        var child = node.pointee.children
        while let c = child {
            switch c.pointee.type {
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE: text += string(c.pointee.content) ?? ""
            case XML_ELEMENT_NODE: return nil
            default: break
            }
            child = c.pointee.next
        }
        let trimmed = trimmingWhitespace(text)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// Trims Unicode whitespace and newlines at both ends on the scalars (Foundation's `trimmingCharacters`
    /// goes through NSString here and cost most of a rights probe).
    static func trimmingWhitespace(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }

    private static func attribute(_ node: xmlNodePtr, ns: String, name: String) -> String? {
        var attr = node.pointee.properties
        while let a = attr {
            if nsURI(a.pointee.ns) == ns, string(a.pointee.name) == name, let child = a.pointee.children {
                return string(child.pointee.content)
            }
            attr = a.pointee.next
        }
        return nil
    }

    /// Values of a property element: rdf:resource, rdf:Alt/Seq/Bag items (x-default first), or plain text.
    private static func values(of node: xmlNodePtr) -> [String] {
        if let resource = attribute(node, ns: rdf, name: "resource") { return [resource] }
        if let text = simpleText(node) { return [text] }
        var child = node.pointee.children
        while let c = child {
            if c.pointee.type == XML_ELEMENT_NODE, nsURI(c.pointee.ns) == rdf,
               let kind = string(c.pointee.name), kind == "Alt" || kind == "Seq" || kind == "Bag" {
                var items: [(String, Bool)] = []
                var li = c.pointee.children
                while let l = li {
                    if l.pointee.type == XML_ELEMENT_NODE, nsURI(l.pointee.ns) == rdf, string(l.pointee.name) == "li" {
                        let value = attribute(l, ns: rdf, name: "resource") ?? simpleText(l)
                        if let value {
                            let lang = attribute(l, ns: "http://www.w3.org/XML/1998/namespace", name: "lang")
                            items.append((value, lang == "x-default"))
                        }
                    }
                    li = l.pointee.next
                }
                if kind == "Alt", let preferred = items.first(where: { $0.1 }) { return [preferred.0] }
                return kind == "Alt" ? Array(items.prefix(1).map(\.0)) : items.map(\.0)
            }
            child = c.pointee.next
        }
        return []
    }

    private static func record(ns: String, name: String, values: [String], into r: inout EmbeddedRights) {
        guard let first = values.first else { return }
        switch (ns, name) {
        case (dc, "rights"): r.xmpRights = r.xmpRights ?? first
        case (dc, "creator"): if r.xmpCreators.isEmpty { r.xmpCreators = values }
        case (xmpRights, "WebStatement"): r.xmpWebStatement = r.xmpWebStatement ?? first
        case (xmpRights, "Marked"): r.xmpMarked = r.xmpMarked ?? first
        case (xmpRights, "UsageTerms"): r.xmpUsageTerms = r.xmpUsageTerms ?? first
        case (xmpRights, "Owner"): r.xmpOwner = r.xmpOwner ?? values.joined(separator: "; ")
        case (photoshop, "Credit"): r.xmpCredit = r.xmpCredit ?? first
        case (photoshop, "Source"): r.xmpSource = r.xmpSource ?? first
        case (plus, "LicensorName"): r.xmpLicensorName = r.xmpLicensorName ?? first
        case (plus, "LicensorURL"): r.xmpLicensorURL = r.xmpLicensorURL ?? first
        case (plus, "DataMining"): r.xmpDataMining = r.xmpDataMining ?? first
        case (iptcExt, "DigitalSourceType"): r.xmpDigitalSourceType = r.xmpDigitalSourceType ?? first
        case (gettyGIFT, "AssetID"): r.gettyAssetID = r.gettyAssetID ?? first
        default: break
        }
    }

    private static let interesting: [String] = [dc, xmpRights, photoshop, plus, iptcExt, gettyGIFT]
    /// The same URIs NUL-terminated, so the tree walk can compare with strcmp and build Swift strings
    /// only for the few properties we keep.
    private static let interestingC: [[CChar]] = interesting.map { $0.utf8CString.map { $0 } }

    private static func interestingNamespace(_ ns: UnsafeMutablePointer<xmlNs>?) -> String? {
        guard let href = ns?.pointee.href else { return nil }
        let h = UnsafeRawPointer(href).assumingMemoryBound(to: CChar.self)
        for (i, c) in interestingC.enumerated() where c.withUnsafeBufferPointer({ strcmp(h, $0.baseAddress!) == 0 }) {
            return interesting[i]
        }
        return nil
    }

    private static func walk(_ node: xmlNodePtr, into r: inout EmbeddedRights, depth: Int) {
        guard depth < 64 else { return }
        // Attribute form on any element (usually rdf:Description or a struct's rdf:li).
        var attr = node.pointee.properties
        while let a = attr {
            if let ns = interestingNamespace(a.pointee.ns), let name = string(a.pointee.name),
               let value = string(a.pointee.children?.pointee.content), !value.isEmpty {
                record(ns: ns, name: name, values: [value], into: &r)
            }
            attr = a.pointee.next
        }
        var child = node.pointee.children
        while let c = child {
            if c.pointee.type == XML_ELEMENT_NODE {
                if let ns = interestingNamespace(c.pointee.ns), let name = string(c.pointee.name) {
                    record(ns: ns, name: name, values: values(of: c), into: &r)
                }
                walk(c, into: &r, depth: depth + 1)
            }
            child = c.pointee.next
        }
    }
}
