import Foundation

/// What a stored licence allows a release to do with an image. Collect stores licences normalised (`cc-by-sa`,
/// `cc0`, `pdm`, …) or, when it could not read them, as the source spelled them; anything that is not a known open
/// licence is treated as "all rights reserved": never redistributed.
struct LicenseTerms: Sendable, Equatable {
    /// The stored id (`cc-by-nc-sa`), lowercased; nil when the image has none.
    let id: String?
    /// The licence's deed, as the source gave it, else the Creative Commons deed of its id.
    let url: String?

    init(id: String?, url: String?) {
        let trimmed = id?.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        self.id = (trimmed?.isEmpty ?? true) ? nil : trimmed
        let givenURL = url?.trimmingCharacters(in: .whitespacesAndNewlines)
        self.url = (givenURL?.isEmpty ?? true) ? Self.deed(self.id, version: nil) : givenURL
    }

    /// Every id the policy knows, as Collect normalises them.
    static let open: Set<String> = ["cc0", "pdm", "cc-by", "cc-by-sa", "cc-by-nc", "cc-by-nd", "cc-by-nc-sa", "cc-by-nc-nd"]

    var isKnown: Bool { id.map(Self.open.contains) ?? false }
    var nonCommercial: Bool { isKnown && id!.contains("-nc") }
    var noDerivatives: Bool { isKnown && id!.contains("-nd") }
    /// CC BY and its variants require credit; CC0 and the Public Domain Mark do not (dsbuild credits them anyway).
    var requiresAttribution: Bool { isKnown && id!.hasPrefix("cc-by") }

    /// The licence version its deed names (`4.0`), else nil.
    var version: String? {
        guard let url else { return nil }
        for part in url.split(separator: "/") where part.first?.isNumber == true && part.contains(".") { return String(part) }
        return nil
    }

    /// The Hub's licence id (`cc-by-4.0`, `cc0-1.0`); nil where the Hub has none (the Public Domain Mark, unknown).
    var hubID: String? {
        guard isKnown, let id else { return nil }
        switch id {
        case "cc0": return "cc0-1.0"
        case "pdm": return nil
        default: return "\(id)-\(version ?? "4.0")"
        }
    }

    /// A readable name (`CC BY-SA 4.0`).
    var displayName: String {
        guard let id else { return "none" }
        switch id {
        case "cc0": return "CC0 1.0"
        case "pdm": return "Public Domain Mark 1.0"
        default:
            guard isKnown else { return id }
            return "CC " + id.dropFirst(3).uppercased() + " " + (version ?? "4.0")
        }
    }

    /// Why this image may not be published under these terms (nil: it may). `commercial`: the release is for
    /// commercial use; `modifications`: what the renderer did to the image (a resize is an adaptation).
    func refusal(commercial: Bool, modifications: [String]) -> String? {
        guard let id else { return "no licence recorded: not redistributable (all rights reserved)" }
        guard isKnown else { return "licence \(id) is not an open licence dsbuild knows: treated as all rights reserved" }
        if commercial && nonCommercial { return "\(displayName) forbids commercial use (publish.commercial is true)" }
        if noDerivatives && !modifications.isEmpty {
            return "\(displayName) forbids adaptations; this image would be \(modifications.joined(separator: ", "))"
        }
        return nil
    }

    /// The Creative Commons deed of an id, at `version` (4.0 when nil).
    static func deed(_ id: String?, version: String?) -> String? {
        guard let id, open.contains(id) else { return nil }
        switch id {
        case "cc0": return "https://creativecommons.org/publicdomain/zero/1.0/"
        case "pdm": return "https://creativecommons.org/publicdomain/mark/1.0/"
        default: return "https://creativecommons.org/licenses/\(id.dropFirst(3))/\(version ?? "4.0")/"
        }
    }
}
