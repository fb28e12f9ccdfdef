import Dataset
import Foundation
import GRDB

/// `mcq --import FILE` and `mcq --export FILE --format F`: the workspace's questions to and from the question file
/// formats of `Dataset/Questions`, value for value. Exports copy each question's image, upright, into `images/`
/// beside the file; imports store the images they name content-addressed in the workspace, so the imported
/// questions are asked with their images. Imported questions keep their own origin and split.
public enum MCQFiles {
    /// The key of `questions.extra` that keeps a file's own id when the row's id had to differ (K-Viscuit's `id_`
    /// repeats); it becomes the record's id again on export. The other file fields with no column are the
    /// record's business (`QuestionRow.ExtraKey`).
    static let idKey = "id_"

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
        let contents = try QuestionFile.read(url, format: format)
        let detected = contents.format
        var report = ImportReport(format: detected)
        let images = QuestionImageSource(folder: imagesDirectory ?? url.deletingLastPathComponent().appendingPathComponent("images"))
        var seen: [String: Int] = [:]
        for r in contents.questions { seen[r.id, default: 0] += 1 }
        var stored: [StoredQuestionImage] = []
        var questions: [Question] = []
        for (r, line) in zip(contents.questions, contents.lines) {
            var q = r
            q.origin = origin ?? r.origin ?? defaultOrigin(detected)
            q.split = r.split ?? "test"
            q.keywordID = nil
            q.imageSHA256 = nil
            var extra = r.extraObject
            // K-Viscuit's `id_` repeats (64 of 657), so its row id adds the line; the file's id rides in `extra`.
            if detected != .dsbuild && (q.origin == "k-viscuit" || seen[r.id, default: 0] > 1) {
                q.id = "\(r.id)#\(line)"
                if extra[idKey] == nil { extra[idKey] = r.id }
            } else if detected == .dsbuild && seen[r.id, default: 0] > 1 {
                q.id = "\(r.id)#\(line)"
            }
            switch try workspace.manifest.read({ [q] db in try StoredQuestionGuard.verdict(for: q, in: db) }) {
            case .new: break
            case .alreadyPresent: report.alreadyPresent += 1; continue
            case .conflict(let line): report.refused.append(line); continue
            }
            // A dsbuild file carries the name, link and keyword an earlier file gave (`extra`) where its own fields
            // say otherwise: the earlier name wins, so the next export names the image as the first file did.
            if let original = extra.removeValue(forKey: QuestionRow.ExtraKey.imagePath) as? String { q.imagePath = original }
            let link = extra.removeValue(forKey: QuestionRow.ExtraKey.imageURL) as? String
            q.imageURL = r.imageURL ?? link
            let keyword = extra.removeValue(forKey: QuestionRow.ExtraKey.keyword) as? String
            q.keyword = r.keyword ?? keyword
            if let sha = r.imageSHA256, try workspace.manifest.read({ db in try Bool.fetchOne(db, sql: "SELECT 1 FROM images WHERE sha256 = ?", arguments: [sha]) }) == true {
                q.imageSHA256 = sha
            } else if let path = r.imagePath {
                do throws(QuestionImageError) {
                    let image = try StoredQuestionImage.store(images.read(path), in: workspace)
                    stored.append(image)
                    q.imageSHA256 = image.sha256
                } catch where error.refused {
                    report.refused.append("question \(r.id) (line \(line)): \(error.description); not imported")
                    continue
                } catch {
                    report.imageProblems.append("question \(r.id) (line \(line)): \(error.description); imported without its image")
                }
            }
            if q.imageSHA256 != nil { report.withImage += 1 }
            q.extraObject = extra
            questions.append(q)
        }
        try workspace.manifest.write { db in
            for image in stored { try image.record(in: db) }
            for var q in questions {
                // The workspace knows the keyword: linked, not kept aside.
                if let keyword = q.keyword {
                    q.keywordID = try Int64.fetchOne(db, sql: "SELECT id FROM keywords WHERE text = ?", arguments: [keyword])
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
        let (questions, imageBySHA) = try workspace.manifest.read { db -> ([Question], [String: StoredImage]) in
            let questions = try QuestionStore.accepted(origin: origin, split: split, in: db)
            var images: [String: StoredImage] = [:]
            for sha in Set(questions.compactMap(\.imageSHA256)) {
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
        var records: [Question] = []
        for q in questions {
            // The stored question is the record, but for the file's own id (other formats) and where its image is now.
            var r = q
            var extra = q.extraObject
            let fileID = extra.removeValue(forKey: idKey) as? String
            r.extraObject = extra
            if format != .dsbuild, let fileID { r.id = fileID }
            if let sha = q.imageSHA256, let image = imageBySHA[sha] {
                r.imageURL = r.imageURL ?? image.link
                do {
                    let placed = try folder.place(sha: sha, source: workspace.imageURL(relativePath: image.path),
                                                  orientation: image.orientation, longestSide: image.side, preferredName: q.imagePath)
                    // The file names the image beside it: its sha256 is that copy's (upright) bytes.
                    r.imagePath = placed.name
                    r.imageSHA256 = placed.sha256
                } catch {
                    report.imageProblems.append("question \(q.id): \(error.description); written without its image")
                    r.imagePath = nil
                }
            }
            if format == .dsbuild {
                // Lossless: the file's own id travels to the next workspace, and the image's first name too when the
                // record names the copy differently.
                var kept = q.extraObject
                if let original = q.imagePath, original != r.imagePath { kept[QuestionRow.ExtraKey.imagePath] = original }
                r.extraObject = kept
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

