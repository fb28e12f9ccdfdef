import Dataset
import Foundation

/// `croissant.json`: the release described in Croissant 1.0 JSON-LD (MLCommons) — every file with its sha256, one
/// record set per config and split reading the parquet files of that split, and the Responsible-AI fields dsbuild
/// knows from the manifest (how the data was collected, filtered and annotated, by which models, and its known
/// limits). Written with sorted keys and no timestamp: the same release writes the same bytes.
struct CroissantMetadata {
    let title: String
    let description: String
    let url: String?
    let citation: String
    /// The release's version (`publish.version`).
    let version: String
    /// Licence deeds of the published images (one, or several when they differ).
    let licenses: [String]
    /// Files of the release (relative path, MIME type, sha256), parquet files first.
    let files: [(path: String, format: String, sha256: String)]
    let tables: [PublishTable]
    let facts: CardFacts
    let imageSettings: ImageOutputSettings

    static let parquet = "application/x-parquet"

    static var context: [String: Any] { [
        "@language": "en", "@vocab": "https://schema.org/", "citeAs": "cr:citeAs", "column": "cr:column",
        "conformsTo": "dct:conformsTo", "cr": "http://mlcommons.org/croissant/", "rai": "http://mlcommons.org/croissant/RAI/",
        "data": ["@id": "cr:data", "@type": "@json"], "dataType": ["@id": "cr:dataType", "@type": "@vocab"],
        "dct": "http://purl.org/dc/terms/", "examples": ["@id": "cr:examples", "@type": "@json"], "extract": "cr:extract",
        "field": "cr:field", "fileProperty": "cr:fileProperty", "fileObject": "cr:fileObject", "fileSet": "cr:fileSet",
        "format": "cr:format", "includes": "cr:includes", "isLiveDataset": "cr:isLiveDataset", "jsonPath": "cr:jsonPath",
        "key": "cr:key", "md5": "cr:md5", "parentField": "cr:parentField", "path": "cr:path", "recordSet": "cr:recordSet",
        "references": "cr:references", "regex": "cr:regex", "repeated": "cr:repeated", "replace": "cr:replace",
        "sc": "https://schema.org/", "separator": "cr:separator", "source": "cr:source", "subField": "cr:subField",
        "transform": "cr:transform", "equivalentProperty": "cr:equivalentProperty", "samplingRate": "cr:samplingRate",
    ] }

    var json: [String: Any] {
        var object: [String: Any] = [
            "@context": Self.context, "@type": "sc:Dataset", "conformsTo": "http://mlcommons.org/croissant/1.0",
            "name": title, "description": description, "citeAs": citation,
            "license": licenses.count == 1 ? licenses[0] as Any : licenses as Any,
            "distribution": distribution, "recordSet": recordSets, "version": version,
        ]
        if let url { object["url"] = url }
        for (key, value) in rai { object[key] = value }
        return object
    }

    func data() throws -> Data {
        try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    }

    static func setID(_ config: String, _ split: String) -> String { "\(config)-\(split)" }

    private var distribution: [[String: Any]] {
        var out: [[String: Any]] = files.map { file in
            ["@type": "cr:FileObject", "@id": file.path, "name": file.path, "contentUrl": file.path,
             "encodingFormat": file.format, "sha256": file.sha256]
        }
        for table in tables {
            for split in table.splits {
                let id = Self.setID(table.config, split.name) + "-files"
                out.append(["@type": "cr:FileSet", "@id": id, "name": id, "encodingFormat": Self.parquet,
                            "includes": "\(table.config)/\(split.name)-*.parquet",
                            "description": "the parquet files of config \(table.config), split \(split.name)"])
            }
        }
        return out
    }

    private var recordSets: [[String: Any]] {
        var out: [[String: Any]] = []
        for table in tables {
            for split in table.splits {
                let id = Self.setID(table.config, split.name)
                let fields = table.columns.map { Self.field($0, id: "\(id)/\($0.name)", fileSet: id + "-files", column: $0.name, path: nil) }
                out.append(["@type": "cr:RecordSet", "@id": id, "name": id,
                            "description": "config \(table.config), split \(split.name): \(table.rowMeaning)", "field": fields])
            }
        }
        return out
    }

    /// A column as a Croissant field: a leaf reads its column (an image its `bytes`); a list is `repeated`; a list
    /// of structs has one repeated sub-field per scalar member (read by `jsonPath`), a nested list member is left out.
    static func field(_ column: PublishColumn, id: String, fileSet: String, column name: String, path: String?) -> [String: Any] {
        var source: [String: Any] = ["fileSet": ["@id": fileSet], "extract": ["column": name]]
        if case .image = column.type { source["transform"] = ["jsonPath": "bytes"] }
        if let path { source["transform"] = ["jsonPath": path] }
        var field: [String: Any] = ["@type": "cr:Field", "@id": id, "name": column.name, "dataType": column.type.croissantType]
        if !column.help.isEmpty { field["description"] = column.help }
        switch column.type {
        case .list(.structure(let members)):
            field["repeated"] = true
            field["subField"] = members.compactMap { member -> [String: Any]? in
                if case .list = member.type { return nil }
                if case .structure = member.type { return nil }
                var sub = Self.field(member, id: "\(id)/\(member.name)", fileSet: fileSet, column: name, path: member.name)
                sub["repeated"] = true
                return sub
            }
        case .list:
            field["repeated"] = true
            field["source"] = source
        default:
            field["source"] = source
        }
        return field
    }

    /// The Responsible-AI fields dsbuild knows.
    private var rai: [String: String] {
        let st = facts.status
        let sources = facts.sources.map { "\($0.source) (\($0.candidates) candidates)" }.joined(separator: ", ")
        let rules = facts.rules.map { "\($0.rule)\($0.threshold.isEmpty ? "" : " (\($0.threshold))"): \($0.dropped) of \($0.judged) dropped" }
        let models = Set(facts.writers.map(\.model)).sorted().joined(separator: ", ")
        var preprocessing = "Images are written upright (EXIF orientation applied), in one format (\(imageSettings.format.fileExtension))"
        if let resize = imageSettings.resize { preprocessing += ", resized (\(resize.mode.rawValue), \(resize.size) px)" }
        preprocessing += ". Filter rules: " + (rules.isEmpty ? "none recorded" : rules.joined(separator: "; ")) + "."
        preprocessing += " Images whose licence forbids the release are left out (ATTRIBUTION.md lists them)."
        return [
            "rai:dataCollection": "For each of \(st.keywords) keywords, candidate images were searched on \(sources.isEmpty ? "no source" : sources) "
                + "with dsbuild; \(st.downloadsOK) were downloaded and \(st.imagesKept) (keyword, image) pairs kept. Provenance (source, page, author, licence) is recorded per image.",
            "rai:dataCollectionType": "Web scraping; Secondary Data Analysis",
            "rai:dataPreprocessingProtocol": preprocessing,
            "rai:dataAnnotationProtocol": "Descriptions (\(st.descriptionsAccepted) accepted) and multiple-choice questions (\(st.questionsAccepted) accepted) "
                + "were written by models (\(models.isEmpty ? "none" : models)) from versioned prompt templates (hashes in the dataset card); "
                + (facts.judges.isEmpty ? "no judge model checked them." : "judges checked them: " + facts.judges.joined(separator: "; ") + "."),
            "rai:dataAnnotationPlatform": "dsbuild \(DSBuildVersion.string) with an OpenAI-compatible chat endpoint",
            "rai:dataBiases": "Images reflect what the searched sources hold for each keyword (regions, periods, photographers); "
                + "model-written texts carry the writing models' biases.",
            "rai:dataLimitations": "Model-written descriptions and questions may contain false statements; keywords with few kept images are thinly covered.",
            "rai:personalSensitiveInformation": "Not screened for people or faces beyond the filter rules listed; images are public web images under open licences.",
            "rai:dataUseCases": "Training and evaluating vision-language models on fine-grained recognition and reasoning: text-only, paired or mixed training, scored on the mcq test split with and without the image.",
        ]
    }
}
