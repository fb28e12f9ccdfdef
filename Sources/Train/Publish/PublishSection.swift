import Dataset
import Foundation

/// The recipe's `publish:` section: where `dsbuild publish` writes the release folder and what goes in it.
/// Command-line options override it field by field. Images leave as the shards' do (`shards.resize`,
/// `shards.image_format`, …); `--resize` and `--image-size` override those for one publish.
public struct PublishSection: RecipeSettings {
    public static let sectionName = "publish"

    /// Paired rows: one per (image, text) sample, or one per image with all its texts as fields.
    public enum Layout: String, Sendable, CaseIterable {
        case perSample = "per_sample", perImage = "per_image"
    }

    /// The release folder, relative to the workspace.
    public var out = "publish"
    public var layout: Layout = .perSample
    /// Whether the release is for commercial use (leaves out NC-licensed images).
    public var commercial = false
    /// The card's and the Croissant metadata's title (default: the recipe's `name`).
    public var prettyName: String?
    /// Language codes of the card (default: the keywords' languages, else `en`).
    public var languages: [String] = []
    /// A BibTeX entry for the dataset itself, shown first in the card's citation block.
    public var citation: String?
    /// The dataset's home page (Croissant `url`; default: none, the folder is the dataset).
    public var url: String?
    /// The release's version (Croissant `version`, semantic versioning).
    public var version = "1.0.0"
    /// A parquet file is closed before it passes this many bytes of rows (images included).
    public var fileBytes = 256 << 20

    public init() {}

    /// `pretty_name`, `--pretty-name` and other one-line texts of the card: not empty, no control characters (a line
    /// break or a C0/C1 control would break the card's YAML or its Markdown).
    public static let lineRule = ValueRule("one line of text without control characters") { value in
        guard let text = value.stringValue else { return nil }
        if text.trimmingCharacters(in: .whitespaces).isEmpty { return "must not be empty" }
        if let bad = text.unicodeScalars.first(where: { CharacterSet.controlCharacters.contains($0) }) {
            return "holds the control character U+\(String(format: "%04X", bad.value)); give one line of printable text"
        }
        return nil
    }

    /// A language code as the Hub's card takes it (BCP 47: `en`, `ko`, `pt-BR`, `zh-Hant`).
    public static func isLanguageCode(_ code: String) -> Bool {
        let parts = code.split(separator: "-", omittingEmptySubsequences: false)
        guard let first = parts.first, (2...3).contains(first.count), first.allSatisfy({ $0.isASCII && $0.isLetter }) else { return false }
        return parts.dropFirst().allSatisfy { (1...8).contains($0.count) && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) } }
    }

    /// `language`: BCP 47 codes.
    public static let languageRule = ValueRule("language codes (BCP 47: en, ko, pt-BR)") { value in
        let codes = value.listValue?.compactMap(\.stringValue) ?? value.stringValue.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? []
        return codes.first(where: { !isLanguageCode($0) }).map { "\(String(reflecting: $0)) is not a language code (BCP 47: en, ko, pt-BR)" }
    }

    /// `file_bytes` and `--file-bytes`.
    public static let fileBytesRule = ValueRule.atLeast(1)

    public static let keys: [SettingKey<PublishSection>] = [
        .string("out", \.out, rule: ValueRule.nonEmpty, help: "the release folder, relative to the workspace"),
        .choice("layout", \.layout, help: "paired rows: one per (image, text) sample, or one per image with all its texts as fields"),
        .bool("commercial", \.commercial, help: "a release for commercial use: NC-licensed images are left out (and listed)"),
        .string("pretty_name", \.prettyName, rule: lineRule, help: "the dataset's title in the card and croissant.json (default: the recipe's name)"),
        .strings("language", \.languages, rule: languageRule, help: "language codes of the card (default: the keywords' languages, else en)"),
        .string("citation", \.citation, help: "a BibTeX entry for this dataset, first in the card's citation block"),
        .string("url", \.url, rule: ValueRule.httpURL, help: "the dataset's home page (croissant.json url)"),
        .string("version", \.version, rule: lineRule, help: "the release's version (croissant.json version, MAJOR.MINOR.PATCH)"),
        .int("file_bytes", \.fileBytes, rule: fileBytesRule, help: "a parquet file is closed before it passes this many bytes"),
    ]

    /// The release folder these settings name, in the workspace at `workspaceRoot`.
    public func folder(in workspaceRoot: URL) -> URL { ShardsSection.folder(out, in: workspaceRoot) }
}
