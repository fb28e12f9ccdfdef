import Dataset
import Foundation

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

    static func yamlString(_ s: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }

    var frontMatter: String {
        var y = "pretty_name: \(Self.yamlString(title))\n"
        y += "license: \(license)\n"
        if license == "other" {
            y += "license_name: mixed\nlicense_link: ATTRIBUTION.md\n"
        }
        y += "language:\n" + languages.map { "- \($0)\n" }.joined()
        y += "task_categories:\n- visual-question-answering\n- image-to-text\n- text-generation\n"
        y += "size_categories:\n- \(Self.sizeCategory(counts.map(\.rows).max() ?? 0))\n"
        y += "configs:\n"
        for table in tables {
            y += "- config_name: \(table.config)\n"
            if table.config == "paired" { y += "  default: true\n" }
            y += "  data_files:\n"
            for split in table.splits {
                y += "  - split: \(split.name)\n    path: \(table.config)/\(split.name)-*.parquet\n"
            }
        }
        return y
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

    private static func cell(_ s: String) -> String {
        s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }

    private static func table(_ header: [String], _ rows: [[String]]) -> String {
        var out = "| " + header.joined(separator: " | ") + " |\n|" + header.map { _ in " --- |" }.joined() + "\n"
        for row in rows { out += "| " + row.map(cell).joined(separator: " | ") + " |\n" }
        return out
    }

    private var titleRegion: String { "# \(title)\n\n\(summary)" }

    private var loadRegion: String {
        var s = "## Configs and files\n\n"
        s += Self.table(["config", "split", "rows", "files", "one row is"], counts.map { c in
            let meaning = tables.first { $0.config == c.config }?.rowMeaning ?? ""
            return [c.config, c.split, "\(c.rows)", "`\(c.config)/\(c.split)-*.parquet`", meaning]
        })
        s += "\n```python\nfrom datasets import load_dataset\n\n"
        s += "paired = load_dataset(\"path/to/this/folder\", \"paired\")   # the default config\n"
        s += "text = load_dataset(\"path/to/this/folder\", \"text\")\n"
        s += "mcq = load_dataset(\"path/to/this/folder\", \"mcq\")         # mcq[\"test\"] is the evaluation set\n```\n\n"
        s += "Paired rows: \(layout == .perImage ? "one per image (`publish.layout: per_image`), every text of the image in its fields" : "one per (image, text) sample (`publish.layout: per_sample`)"). "
        s += "Images are embedded (Hugging Face `Image` feature), upright (EXIF orientation applied), as \(imageSettings.format.rawValue.uppercased())"
        if let resize = imageSettings.resize { s += ", resized (\(resize.mode.rawValue), \(resize.size) px)" }
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
        s += facts.judges.isEmpty ? "No judge ran.\n" : facts.judges.map { "- \($0)\n" }.joined()
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
            s += "); `ATTRIBUTION.md` lists each with the reason.\n"
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
        if let citation, !citation.isEmpty { s += "```bibtex\n\(citation.trimmingCharacters(in: .whitespacesAndNewlines))\n```\n\n" }
        s += "This dataset follows the text-only training line of work:\n\n```bibtex\n"
        s += "@inproceedings{baek2024kviscuit,\n  title = {Evaluating Visual and Cultural Interpretation: The K-Viscuit Benchmark with Human-VLM Collaboration},\n"
        s += "  author = {Baek, Yujin and others},\n  year = {2024},\n  eprint = {2406.16469},\n  archivePrefix = {arXiv}\n}\n```\n"
        return s
    }
}
