import Dataset
import Foundation
import Yams

/// The release's `README.md`: a Hugging Face dataset card. Its YAML front matter maps the configs to their files
/// (`paired` the default, so `load_dataset(DIR)` returns the training pairs, never only the MCQ test split) and
/// states licence, languages, tasks, size and title; its sections are generated from the manifest inside marked
/// regions (`CardRegions`), so a user's own text around them survives a re-publish. No timestamps: the same
/// manifest writes the same card.
struct DatasetCard {
    let title: String
    let summary: String
    let languages: [String]
    /// Row counts per config and split.
    let counts: [(config: String, split: String, rows: Int)]
    let tables: [PublishTable]
    let facts: CardFacts
    let images: PublishedImages
    let layout: PublishSection.Layout
    let commercial: Bool
    let citation: String?
    let imageSettings: ImageOutputSettings
    /// `config/split` names that hold no row: not written, not in `configs:` (a 0-row parquet breaks readers).
    var emptySplits: [String] = []
    /// Text records left out because the image they were written from is left out.
    var textsLeftOut = 0

    /// `license:` — the one Hub licence id all published images share, else `other` (with the table in the card).
    var license: String {
        let ids = Set(images.published.map { $0.terms.hubID ?? "other" })
        return ids.count == 1 ? ids.first! : "other"
    }

    static func sizeCategory(_ n: Int) -> String {
        switch n {
        case ..<1_000: "n<1K"
        case ..<10_000: "1K<n<10K"
        case ..<100_000: "10K<n<100K"
        case ..<1_000_000: "100K<n<1M"
        case ..<10_000_000: "1M<n<10M"
        default: "10M<n<100M"
        }
    }

    /// The YAML front matter, emitted by Yams (every scalar quoted and escaped as YAML needs: no value can add a
    /// key or end the block). Configs and splits without rows are left out; the default config is `paired` when it
    /// has rows, else the first that has.
    var frontMatter: String {
        let written = tables.filter { !$0.splits.isEmpty }
        return Self.frontMatter(title: title, license: license, languages: languages,
                                sizeCategory: Self.sizeCategory(counts.map(\.rows).max() ?? 0),
                                configs: written.map { t in (t.config, t.splits.map(\.name)) })
    }

    /// The front matter of these values (`configs`: each config with the splits that have rows).
    static func frontMatter(title: String, license: String, languages: [String], sizeCategory: String,
                            configs: [(config: String, splits: [String])]) -> String {
        // dsbuild's own words plain; a value from the recipe, the manifest or a source always double-quoted (never read
        // as a bool, a number or a key; control characters escaped by the emitter).
        func str(_ s: String) -> Node { Node(s, Tag(.str), .plain) }
        func text(_ s: String) -> Node { Node(s, Tag(.str), .doubleQuoted) }
        func seq(_ items: [String]) -> Node { Node(items.map(str)) }
        var pairs: [(Node, Node)] = [(str("pretty_name"), text(title)), (str("license"), str(license))]
        if license == "other" {
            pairs += [(str("license_name"), str("mixed")), (str("license_link"), str("ATTRIBUTION.md"))]
        }
        pairs += [(str("language"), Node(languages.map(text))),
                  (str("task_categories"), seq(["visual-question-answering", "image-to-text", "text-generation"])),
                  (str("size_categories"), seq([sizeCategory]))]
        let defaultConfig = configs.first { $0.config == "paired" }?.config ?? configs.first?.config
        var nodes: [Node] = []
        for (config, splits) in configs {
            var pairs: [(Node, Node)] = [(str("config_name"), str(config))]
            if config == defaultConfig { pairs.append((str("default"), Node("true", Tag(.bool)))) }
            pairs.append((str("data_files"), Node(splits.map { split in
                Node([(str("split"), str(split)), (str("path"), str("\(config)/\(split)-*.parquet"))])
            })))
            nodes.append(Node(pairs))
        }
        pairs.append((str("configs"), Node(nodes)))
        return (try? Yams.serialize(node: Node(pairs), width: -1, allowUnicode: true)) ?? ""
    }

    /// The body of a first publish: the title region, a paragraph for the user, then the other regions.
    var template: String {
        var body = CardRegions.wrap("title", titleRegion) + "\n\n"
        body += "## About this dataset\n\n"
        body += "_Write here what the dataset is for, who made it and how to reach them. `dsbuild publish` keeps everything outside the "
        body += "`dsbuild:begin`/`dsbuild:end` markers as you leave it and writes what is between them anew from the manifest._\n\n"
        for (name, content) in regions.dropFirst() { body += CardRegions.wrap(name, content) + "\n\n" }
        return body
    }

    func render(existing: String?) -> String {
        CardRegions.merge(frontMatter: frontMatter, regions: regions, template: template, existing: existing)
    }

    var regions: [(name: String, content: String)] {
        [("title", titleRegion), ("load", loadRegion), ("build", buildRegion), ("funnel", funnelRegion),
         ("categories", categoriesRegion), ("split", splitRegion), ("licenses", licensesRegion),
         ("limitations", limitationsRegion), ("citation", citationRegion)]
    }

    private static func table(_ header: [String], _ rows: [[String]]) -> String {
        var out = "| " + header.joined(separator: " | ") + " |\n|" + header.map { _ in " --- |" }.joined() + "\n"
        for row in rows { out += "| " + row.map(CardText.cell).joined(separator: " | ") + " |\n" }
        return out
    }

    private var titleRegion: String { "# \(CardText.inline(title))\n\n\(CardText.inline(summary))" }

    private var loadRegion: String {
        var s = "## Configs and files\n\n"
        s += Self.table(["config", "split", "rows", "files", "one row is"], counts.map { c in
            let meaning = tables.first { $0.config == c.config }?.rowMeaning ?? ""
            let files = c.rows == 0 ? "none (no row: not written, not in `configs`)" : "`\(c.config)/\(c.split)-*.parquet`"
            return [c.config, c.split, "\(c.rows)", files, meaning]
        })
        if !emptySplits.isEmpty {
            s += "\nNo row to publish in \(emptySplits.map { "`\($0)`" }.joined(separator: ", ")): not written and not in `configs` (an empty parquet file breaks readers).\n"
        }
        s += "\n```python\nfrom datasets import load_dataset\n\n"
        s += "paired = load_dataset(\"path/to/this/folder\", \"paired\")   # the default config\n"
        s += "text = load_dataset(\"path/to/this/folder\", \"text\")\n"
        s += "mcq = load_dataset(\"path/to/this/folder\", \"mcq\")         # mcq[\"test\"] is the evaluation set\n```\n\n"
        s += "Paired rows: \(layout == .perImage ? "one per image (`publish.layout: per_image`), every text of the image in its fields" : "one per (image, text) sample (`publish.layout: per_sample`)"). "
        s += "Images are embedded (Hugging Face `Image` feature), upright (EXIF orientation applied), as \(imageSettings.format.rawValue.uppercased())"
        if let resize = imageSettings.resize {
            s += resize.mode == .centerCrop ? ", cropped to the centre and resized (center_crop, \(resize.size)×\(resize.size) px)"
                : ", resized (\(resize.mode.rawValue), \(resize.size) px)"
        }
        s += ". An image copied byte for byte (upright, already in the format, not resized) keeps the original file's metadata, "
        s += "EXIF included (which may hold the camera and a GPS position); a re-encoded image keeps none"
        s += ". `croissant.json` describes the same files (Croissant 1.0, with sha256 per file); `ATTRIBUTION.csv` credits every image.\n\n"
        for table in tables {
            s += "### `\(table.config)` columns\n\n"
            s += Self.table(["column", "type", "meaning"], table.columns.map { [$0.name, Self.typeName($0.type), $0.help] })
            s += "\n"
        }
        return s
    }

    private static func typeName(_ t: PublishColumnType) -> String {
        switch t {
        case .string: "string"
        case .int64: "int64"
        case .bool: "bool"
        case .image: "Image"
        case .list(let e): "list of \(typeName(e))"
        case .structure(let fields): "{" + fields.map(\.name).joined(separator: ", ") + "}"
        }
    }

    private var buildRegion: String {
        var s = "## How it was built\n\n"
        s += "Built with dsbuild \(DSBuildVersion.string): keywords → collected images → filter rules → descriptions and "
        s += "multiple-choice questions written by a model → this release. Every number below is counted from the build's manifest.\n\n"
        s += "### Sources\n\n"
        s += facts.sources.isEmpty ? "No candidates recorded.\n\n"
            : Self.table(["source", "candidates"], facts.sources.map { [$0.source, "\($0.candidates)"] }) + "\n"
        s += "### Filter rules\n\n"
        s += facts.rules.isEmpty ? "No filter decisions recorded.\n\n"
            : Self.table(["rule", "threshold", "images judged", "dropped"],
                         facts.rules.map { [$0.rule, $0.threshold.isEmpty ? "—" : $0.threshold, "\($0.judged)", "\($0.dropped)"] }) + "\n"
        s += "### Models and prompt templates\n\n"
        s += facts.writers.isEmpty ? "No model-written text.\n\n"
            : Self.table(["stage", "model", "prompt template sha256", "what", "accepted"],
                         facts.writers.map { [$0.stage, $0.model.isEmpty ? "(none: built from the keywords)" : $0.model, $0.template.isEmpty ? "—" : "`\($0.template.prefix(16))`", $0.detail, "\($0.count)"] }) + "\n"
        s += "### Judges\n\n"
        s += facts.judges.isEmpty ? "No judge ran.\n" : facts.judges.map { "- \(CardText.inline($0))\n" }.joined()
        return s
    }

    private var funnelRegion: String {
        let st = facts.status
        var s = "## Funnel\n\n"
        s += Self.table(["stage", "count"], [
            ["keywords", "\(st.keywords)"], ["candidates", "\(st.candidates)"], ["downloaded", "\(st.downloadsOK)"],
            ["download failures", "\(st.downloadsFailed.values.reduce(0, +))"], ["stored images", "\(st.imagesStored)"],
            ["kept (keyword, image) pairs", "\(st.imagesKept)"], ["descriptions accepted", "\(st.descriptionsAccepted)"],
            ["questions accepted", "\(st.questionsAccepted)"],
            ["images published", "\(images.published.count)"], ["images left out (licence)", "\(images.refused.count)"],
            ["texts left out with their image", "\(textsLeftOut)"],
        ])
        return s
    }

    private var categoriesRegion: String {
        "## Categories\n\n" + Self.table(["category", "keywords", "kept images"], facts.categories.map { [$0.category, "\($0.keywords)", "\($0.images)"] })
    }

    private var splitRegion: String {
        var s = "## Split design\n\n"
        if let split = facts.split {
            switch split.design {
            case .image:
                s += "Split by image (\(split.summary)): every keyword is in train and test; at least \(split.testImagesPerKeyword) kept image(s) of "
                s += "each keyword with two or more are held out (\(facts.testImages) test images). "
            case .keyword:
                s += "Split by keyword (\(split.summary)): \(facts.testKeywords) keywords are held out whole (unseen classes). "
            }
        } else {
            s += "No split is stored. "
        }
        s += "Nothing derived from a test image — its pixels, a description grounded on it, a question on it — is in `paired`, "
        s += "`text` or `mcq` train; images within the duplicate rule's distance of a test image are held out with it. "
        s += "`mcq` test holds the held-out questions with their images.\n"
        return s
    }

    private var licensesRegion: String {
        var s = "## Licences and attribution\n\n"
        var byLicense: [String: Int] = [:]
        for image in images.published { byLicense[image.terms.displayName, default: 0] += 1 }
        s += Self.table(["licence", "images"], byLicense.sorted { $0.key < $1.key }.map { [$0.key, "\($0.value)"] })
        s += "\nEach image keeps its own licence; `ATTRIBUTION.csv` (rendered as `ATTRIBUTION.md`) names its author, licence, source page "
        s += "and what was done to it. The texts were written by the models listed above.\n\n"
        let refused = images.refused
        if refused.isEmpty {
            s += "No image was left out for its licence (release for \(commercial ? "commercial" : "non-commercial") use).\n"
        } else {
            s += "\(refused.count) image(s) were left out because their licence forbids this release (\(commercial ? "commercial" : "non-commercial") use"
            s += imageSettings.resize == nil ? "" : ", resized"
            s += "); `ATTRIBUTION.md` lists each with the reason. "
            s += "\(textsLeftOut) text record(s) written from these images (image-grounded descriptions, questions on them) were left out with them.\n"
        }
        return s
    }

    private var limitationsRegion: String {
        var s = "## Limitations\n\n"
        s += "- Descriptions and questions were written by a model and may state false facts; the judges above checked only what they were run on.\n"
        s += "- Images come from web sources searched by keyword: a keyword's images reflect what those sources hold (regions, periods, photographers), not the world.\n"
        s += "- Keywords with few kept images are thinly covered; see the category table.\n"
        if facts.status.relevance.isEmpty { s += "- No relevance judge checked that each image shows its keyword rather than a similar one.\n" }
        return s
    }

    private var citationRegion: String {
        var s = "## Citation\n\n"
        if let citation, !citation.isEmpty { s += CardText.codeBlock(citation, language: "bibtex") + "\n" }
        s += "This dataset follows the text-only training line of work:\n\n```bibtex\n"
        s += "@inproceedings{baek2024kviscuit,\n  title = {Evaluating Visual and Cultural Interpretation: The K-Viscuit Benchmark with Human-VLM Collaboration},\n"
        s += "  author = {Baek, Yujin and others},\n  year = {2024},\n  eprint = {2406.16469},\n  archivePrefix = {arXiv}\n}\n```\n"
        return s
    }
}
