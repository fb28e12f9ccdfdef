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

    /// `file_bytes` and `--file-bytes`.
    public static let fileBytesRule = ValueRule.atLeast(1)

    public static let keys: [SettingKey<PublishSection>] = [
        .string("out", \.out, help: "the release folder, relative to the workspace"),
        .choice("layout", \.layout, help: "paired rows: one per (image, text) sample, or one per image with all its texts as fields"),
        .bool("commercial", \.commercial, help: "a release for commercial use: NC-licensed images are left out (and listed)"),
        .string("pretty_name", \.prettyName, help: "the dataset's title in the card and croissant.json (default: the recipe's name)"),
        .strings("language", \.languages, help: "language codes of the card (default: the keywords' languages, else en)"),
        .string("citation", \.citation, help: "a BibTeX entry for this dataset, first in the card's citation block"),
        .string("url", \.url, rule: ValueRule.httpURL, help: "the dataset's home page (croissant.json url)"),
        .string("version", \.version, rule: ValueRule.nonEmpty, help: "the release's version (croissant.json version, MAJOR.MINOR.PATCH)"),
        .int("file_bytes", \.fileBytes, rule: fileBytesRule, help: "a parquet file is closed before it passes this many bytes"),
    ]

    /// The release folder these settings name, in the workspace at `workspaceRoot`.
    public func folder(in workspaceRoot: URL) -> URL { ShardsSection.folder(out, in: workspaceRoot) }
}
