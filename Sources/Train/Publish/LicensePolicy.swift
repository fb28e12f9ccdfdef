import Dataset
import Foundation

/// What a stored licence allows a release to do with an image. Collect stores licences normalised (`cc-by-sa`,
/// `cc0`, `pdm`, …) or, when it could not read them, as the source spelled them (read again here with today's
/// `License.normalize`, so a spelling an older collect missed, like `cc-by-4.0`, counts); anything that is not a known
/// open licence is treated as "all rights reserved": never redistributed. The licence URL the source gave is weighed
/// too: a Creative Commons deed naming other terms than the licence is a conflict (the image is left out), and a URL
/// that is not one line of http(s) is not used. The version comes from the deed or the spelling, never assumed.
struct LicenseTerms: Sendable, Equatable {
    /// The licence id (`cc-by-nc-sa`), lowercased; nil when the image has none.
    let id: String?
    /// The version the source named (`4.0`), nil when it named none.
    let version: String?
    /// The licence's deed, as the source gave it, else the Creative Commons deed of its id (unversioned when the
    /// version is not known).
    let url: String?
    /// Why the licence and its URL disagree (nil: they agree).
    let conflict: String?

    init(id rawID: String?, url rawURL: String?) {
        let trimmed = rawID?.trimmingCharacters(in: .whitespacesAndNewlines)
        let stored = (trimmed?.isEmpty ?? true) ? nil : trimmed
        var id = stored.map { License.normalize($0) ?? $0.lowercased() }
        var version = stored.flatMap(License.version)
        let givenURL = rawURL.flatMap(Self.usableURL)
        var conflict: String?
        if let givenURL, givenURL.lowercased().contains("creativecommons.org") {
            let urlID = License.normalize(givenURL), urlVersion = License.version(givenURL)
            if let urlID, id == nil {
                id = urlID
            } else if let urlID, let known = id, Self.open.contains(known), urlID != known {
                conflict = "its licence reads \(known) but its licence URL \(givenURL) names \(urlID)"
            } else if urlID == nil {
                conflict = "its licence URL \(givenURL) is not a Creative Commons deed dsbuild can read"
            }
            if let urlVersion, let v = version, urlVersion != v, conflict == nil {
                conflict = "its licence names version \(v) but its licence URL \(givenURL) names \(urlVersion)"
            }
            version = urlVersion ?? version
        }
        self.id = id
        self.version = id == "pdm" ? "1.0" : (id == "cc0" ? (version ?? "1.0") : version)
        self.conflict = conflict
        self.url = givenURL ?? Self.deed(id, version: self.version)
    }

    /// A URL fit to print and link: one line of `http(s)://…` without spaces or control characters.
    static func usableURL(_ raw: String) -> String? {
        let url = raw.trimmingCharacters(in: .whitespaces)
        guard !url.isEmpty, url.unicodeScalars.allSatisfy({ !CharacterSet.controlCharacters.contains($0) && !CharacterSet.whitespaces.contains($0) }),
              let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme?.lowercased() ?? ""), parsed.host != nil else { return nil }
        return url
    }

    /// Every id the policy knows, as Collect normalises them.
    static let open: Set<String> = Set(License.known)

    var isKnown: Bool { id.map(Self.open.contains) ?? false }
    var nonCommercial: Bool { isKnown && id!.contains("-nc") }
    var noDerivatives: Bool { isKnown && id!.contains("-nd") }
    /// CC BY and its variants require credit; CC0 and the Public Domain Mark do not (dsbuild credits them anyway).
    var requiresAttribution: Bool { isKnown && id!.hasPrefix("cc-by") }

    /// The Hub's licence id (`cc-by-4.0`, `cc0-1.0`); nil where the Hub has none (the Public Domain Mark, unknown,
    /// a version not recorded).
    var hubID: String? {
        guard isKnown, let id else { return nil }
        switch id {
        case "cc0": return "cc0-1.0"
        case "pdm": return nil
        default: return version.map { "\(id)-\($0)" }
        }
    }

    /// A readable name (`CC BY-SA 4.0`, `CC BY (version not recorded)`).
    var displayName: String {
        guard let id else { return "none" }
        switch id {
        case "cc0": return "CC0 1.0"
        case "pdm": return "Public Domain Mark 1.0"
        default:
            guard isKnown else { return id }
            return "CC " + id.dropFirst(3).uppercased() + " " + (version ?? "(version not recorded)")
        }
    }

    /// Why this image may not be published under these terms (nil: it may). `commercial`: the release is for
    /// commercial use; `modifications`: what the renderer did to the image (a resize is an adaptation).
    func refusal(commercial: Bool, modifications: [String]) -> String? {
        if let conflict { return "conflicting licence: \(conflict)" }
        guard let id else { return "no licence recorded: not redistributable (all rights reserved)" }
        guard isKnown else { return "licence \(id) is not an open licence dsbuild knows: treated as all rights reserved" }
        if commercial && nonCommercial { return "\(displayName) forbids commercial use (publish.commercial is true)" }
        if noDerivatives && !modifications.isEmpty {
            return "\(displayName) forbids adaptations; this image would be \(modifications.joined(separator: ", "))"
        }
        return nil
    }

    /// The Creative Commons deed of an id at `version` (the unversioned deed when nil).
    static func deed(_ id: String?, version: String?) -> String? {
        guard let id, open.contains(id) else { return nil }
        switch id {
        case "cc0": return "https://creativecommons.org/publicdomain/zero/1.0/"
        case "pdm": return "https://creativecommons.org/publicdomain/mark/1.0/"
        default: return "https://creativecommons.org/licenses/\(id.dropFirst(3))/" + (version.map { "\($0)/" } ?? "")
        }
    }
}
