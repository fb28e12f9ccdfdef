import Dataset
import Foundation
import GRDB

/// `mcq --import FILE` and `mcq --export FILE --format F`: the workspace's questions to and from the question file
/// formats of `Dataset/Questions`, value for value. Exports copy each question's image, upright, into `images/`
/// beside the file; imports store the images they name content-addressed in the workspace, so the imported
/// questions are asked with their images. Imported questions keep their own origin and split.
public enum MCQFiles {
    /// Keys of `questions.extra` that hold file fields with no column; they become record fields again on export.
    static let idKey = "id_", imagePathKey = "image_path", imageURLKey = "image_url", keywordKey = "keyword"

    public struct ImportReport: Sendable {
        public var format: QuestionFileFormat
        public var imported = 0
        public var withImage = 0
        /// Questions whose id is stored already with the same question, options, answer and split (left as stored).
        public var alreadyPresent = 0
        /// One line per question whose image is missing or unreadable (the question is imported without it).
        public var imageProblems: [String] = []
        /// One line per question not imported: its image was refused (`QuestionImageSource`), or its id is stored
        /// with different content (stored questions never change).
        public var refused: [String] = []
    }

    public struct ExportReport: Sendable {
        public var exported = 0
        public var images = 0
        /// Images re-encoded upright.
        public var rotated = 0
        /// One line per question whose image could not be copied (written without one).
        public var imageProblems: [String] = []
    }

    /// The origin an imported question gets when neither the file nor `--origin` says.
    public static func defaultOrigin(_ format: QuestionFileFormat) -> String {
        switch format {
        case .kViscuit: "k-viscuit"
        case .butterfly: "butterfly"
        case .dsbuild: "imported"
        }
    }

    /// Reads `url` (format detected unless given) and stores its questions; images resolve against
    /// `imagesDirectory`, else the `images/` folder beside the file.
    public static func importFile(_ url: URL, format: QuestionFileFormat? = nil, imagesDirectory: URL? = nil, origin: String? = nil,
                                  workspace: Workspace) throws -> ImportReport {
        let (detected, records) = try QuestionFile.read(url, format: format)
        var report = ImportReport(format: detected)
        let images = QuestionImageSource(folder: imagesDirectory ?? url.deletingLastPathComponent().appendingPathComponent("images"))
        var seen: [String: Int] = [:]
        for r in records { seen[r.id, default: 0] += 1 }
        var stored: [StoredQuestionImage] = []
        var questions: [MCQuestion] = []
        for r in records {
            let rowOrigin = origin ?? r.origin ?? defaultOrigin(detected)
            var q = MCQuestion(id: r.id, type: r.type, question: r.question, options: r.options, answer: r.answer,
                               aspect: r.aspect, rationale: r.rationale, category: r.category, split: r.split ?? "test",
                               origin: rowOrigin, model: r.model, templateSHA256: r.templateSHA256)
            var extra = QuestionJSON.object(r.extra)
            // K-Viscuit's `id_` repeats (64 of 657), so its row id adds the line; the file's id rides in `extra`.
            if detected != .dsbuild && (rowOrigin == "k-viscuit" || seen[r.id, default: 0] > 1) {
                q.id = "\(r.id)#\(r.line)"
                if extra[idKey] == nil { extra[idKey] = r.id }
            } else if detected == .dsbuild && seen[r.id, default: 0] > 1 {
                q.id = "\(r.id)#\(r.line)"
            }
            switch try workspace.manifest.read({ [q] db in try StoredQuestionGuard.verdict(for: q, in: db) }) {
            case .new: break
            case .alreadyPresent: report.alreadyPresent += 1; continue
            case .conflict(let line): report.refused.append(line); continue
            }
            if let path = r.imagePath, extra[imagePathKey] == nil { extra[imagePathKey] = path }
            if let link = r.imageURL { extra[imageURLKey] = link }
            if let keyword = r.keyword { extra[keywordKey] = keyword }
            if let sha = r.imageSHA256, try workspace.manifest.read({ db in try Bool.fetchOne(db, sql: "SELECT 1 FROM images WHERE sha256 = ?", arguments: [sha]) }) == true {
                q.imageSHA256 = sha
            } else if let path = r.imagePath {
                do throws(QuestionImageError) {
                    let image = try StoredQuestionImage.store(images.read(path), in: workspace)
                    stored.append(image)
                    q.imageSHA256 = image.sha256
                } catch where error.refused {
                    report.refused.append("question \(r.id) (line \(r.line)): \(error.description); not imported")
                    continue
                } catch {
                    report.imageProblems.append("question \(r.id) (line \(r.line)): \(error.description); imported without its image")
                }
            }
            if !q.imageSHA256.isEmpty { report.withImage += 1 }
            q.extra = QuestionJSON.text(extra)
            questions.append(q)
        }
        try workspace.manifest.write { db in
            for image in stored { try image.record(in: db) }
            for var q in questions {
                var extra = QuestionJSON.object(q.extra)
                if let keyword = extra[keywordKey] as? String,
                   let id = try Int64.fetchOne(db, sql: "SELECT id FROM keywords WHERE text = ?", arguments: [keyword]) {
                    q.keywordID = id  // the workspace knows the keyword: linked, not kept aside
                    extra.removeValue(forKey: keywordKey)
                    q.extra = QuestionJSON.text(extra)
                }
                try QuestionStore.save(q, in: db)
            }
        }
        report.imported = questions.count
        return report
    }

    /// Writes the accepted questions (optionally of one origin and split) to `url` in `format`, their images into
    /// `images/` beside it.
    public static func export(_ format: QuestionFileFormat, to url: URL, origin: String?, split: String?, workspace: Workspace) throws -> ExportReport {
        struct StoredImage { let path: String; let orientation: Int?; let side: Int?; let link: String? }
        let (questions, imageBySHA) = try workspace.manifest.read { db -> ([MCQuestion], [String: StoredImage]) in
            let questions = try QuestionStore.accepted(origin: origin, split: split, in: db)
            var images: [String: StoredImage] = [:]
            for sha in Set(questions.map(\.imageSHA256)) where !sha.isEmpty {
                guard let row = try Row.fetchOne(db, sql: "SELECT path, orientation, display_width, display_height FROM images WHERE sha256 = ?",
                                                 arguments: [sha]) else { continue }
                let link = try String.fetchOne(db, sql: """
                    SELECT c.image_url FROM downloads d JOIN candidates c ON c.id = d.candidate_id
                     WHERE d.image_sha256 = ? AND d.status = 'ok' AND (c.image_url LIKE 'http://%' OR c.image_url LIKE 'https://%')
                     ORDER BY c.id LIMIT 1
                    """, arguments: [sha])
                let w: Int? = row["display_width"], h: Int? = row["display_height"]
                images[sha] = StoredImage(path: row["path"], orientation: row["orientation"], side: max(w ?? 0, h ?? 0), link: link)
            }
            return (questions, images)
        }
        if questions.isEmpty && FileManager.default.fileExists(atPath: url.path) {
            throw EmptyExportError(file: url.path, origin: origin, split: split)
        }
        var report = ExportReport()
        let folder = QuestionImageFolder(directory: url.deletingLastPathComponent().appendingPathComponent("images"))
        var records: [QuestionRecord] = []
        for q in questions {
            var extra = QuestionJSON.object(q.extra)
            let fileID = extra.removeValue(forKey: idKey) as? String
            let originalPath = extra.removeValue(forKey: imagePathKey) as? String
            let storedLink = extra.removeValue(forKey: imageURLKey) as? String
            let storedKeyword = extra.removeValue(forKey: keywordKey) as? String
            var r = QuestionRecord(id: q.id, type: q.type, question: q.question, options: q.options, answer: q.answer,
                                   category: q.category, split: q.split, origin: q.origin, keyword: q.keyword ?? storedKeyword,
                                   imageSHA256: q.imageSHA256.isEmpty ? nil : q.imageSHA256, imagePath: originalPath,
                                   imageURL: storedLink, aspect: q.aspect, rationale: q.rationale, model: q.model,
                                   templateSHA256: q.templateSHA256, extra: QuestionJSON.text(extra))
            if format != .dsbuild, let fileID { r.id = fileID }

            if let image = imageBySHA[q.imageSHA256] {
                r.imageURL = r.imageURL ?? image.link
                do {
                    let placed = try folder.place(sha: q.imageSHA256, source: workspace.imageURL(relativePath: image.path),
                                                  orientation: image.orientation, longestSide: image.side, preferredName: originalPath)
                    // The file names the image beside it: its sha256 is that copy's (upright) bytes.
                    r.imagePath = placed.name
                    r.imageSHA256 = placed.sha256
                } catch {
                    report.imageProblems.append("question \(q.id): \(error.description); written without its image")
                    r.imagePath = nil
                }
            }
            if format == .dsbuild {
                // Lossless: the file's own id, image name and link travel to the next workspace, unless the record's
                // fields already say the same.
                var kept = QuestionJSON.object(q.extra)
                for (key, value) in [(imagePathKey, r.imagePath), (imageURLKey, r.imageURL), (keywordKey, r.keyword)]
                    where value != nil && kept[key] as? String == value { kept.removeValue(forKey: key) }
                r.extra = QuestionJSON.text(kept)
            }
            records.append(r)
        }
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(QuestionFile.text(records, format: format).utf8).write(to: url, options: .atomic)
        report.exported = records.count
        report.images = folder.written
        report.rotated = folder.rotated
        return report
    }
}

