import Dataset
import Foundation
import Imaging

/// `split_disjoint`: nothing derived from a test image — nor from an image within the duplicate rule's pHash
/// distance of one, or whose embedding meets one's at the semantic threshold's cosine (`HeldOutImages`' two
/// sides), nor (design `keyword`) from a test keyword — is in a training artifact: the paired samples
/// (by the image sha their `.json` names and by the sha of the image bytes), the text records (qa records of
/// test questions or of questions about a test image, descriptions grounded on a test image) and the training
/// exports (LLaVA, LLaMA-Factory, OpenAI). `SplitMap` is the truth. Also: every kept pair has a stored split,
/// and every test question is asked on a test image.
struct SplitDisjointCheck: WorkspaceCheck {
    let name = "split_disjoint"
    let rule = "no test image, near duplicate of one, or test keyword in any training shard or export"

    func run(_ context: CheckContext) throws -> [CheckViolation] {
        let manifest = context.manifest
        let split = manifest.split
        let forbidden = try Self.forbiddenImages(context)
        var testHashes = HammingIndex<String>(distance: context.phashDistance)
        for (sha, phash) in Self.testImageHashes(context) { testHashes.insert(phash, sha) }
        var out: [CheckViolation] = []

        func imageReason(_ shas: [String]) -> String? {
            for sha in shas { if let reason = forbidden[sha] { return reason } }
            return nil
        }
        /// An image that is no stored image byte for byte (re-encoded, or put there by hand) but looks like a test image.
        func nearReason(_ hashes: [UInt64]) -> String? {
            for hash in hashes {
                let near = testHashes.neighbours(of: hash)
                if let closest = near.min(by: { $0.1 < $1.1 }) {
                    return "an image within pHash distance \(closest.1) of test \(context.name(image: closest.0))"
                }
            }
            return nil
        }
        func keywordReason(_ text: String?) -> String? {
            guard let text, let id = manifest.keywords.first(where: { $0.value == text })?.key, split.testKeywords.contains(id) else { return nil }
            return "keyword \(text) is a test keyword"
        }
        /// Why a question may not train, or nil.
        func questionReason(_ id: String) -> String? {
            guard let q = manifest.questions[id] else { return nil }
            if q.split == "test" { return "\(context.name(question: id)) is a test question" }
            if !q.imageSHA256.isEmpty, let reason = forbidden[q.imageSHA256] { return "\(context.name(question: id)) is about \(reason)" }
            if let kid = q.keywordID, split.testKeywords.contains(kid) { return "\(context.name(question: id)) is about a test keyword" }
            return nil
        }
        func descriptionReason(_ index: Int) -> String? {
            let d = manifest.descriptions[index]
            if !d.imageSHA256.isEmpty, let reason = forbidden[d.imageSHA256] { return "description \(d.id) was grounded on \(reason)" }
            if split.testKeywords.contains(d.keywordID) { return "description \(d.id) is of test keyword \(d.keyword)" }
            return nil
        }
        func questionID(turns: [ChatTurn], recordID: String?) -> String? {
            if let recordID, let id = context.origins.questionByRecordID[recordID] { return id }
            guard let copy = QACopy.parse(turns) else { return nil }
            let ids = (context.origins.questionsByStem[copy.stem] ?? []).filter { manifest.questions[$0]?.options.map(ImageReference.neutralised) == copy.options }
            // A stem shared by several questions (Type 1 stems are per category) is attributed only when unique.
            return ids.count == 1 ? ids[0] : ids.first { questionReason($0) != nil && manifest.questions[$0]?.answer == copy.answer }
        }
        func descriptionIndex(recordID: String?, text: String?) -> Int? {
            if let recordID, let i = context.origins.descriptionByRecordID[recordID] { return i }
            guard let text, let list = context.origins.descriptionsByText[text] else { return nil }
            return list.first { descriptionReason($0) != nil } ?? list.first
        }
        func textReason(turns: [ChatTurn], recordID: String?, text: String?, keyword: String?) -> String? {
            if let id = questionID(turns: turns, recordID: recordID), let reason = questionReason(id) { return reason }
            let body = text ?? turns.last(where: { $0.role == "assistant" })?.content
            if let i = descriptionIndex(recordID: recordID, text: body), let reason = descriptionReason(i) { return reason }
            return keywordReason(keyword)
        }

        for sample in context.shards.paired {
            if let reason = imageReason(sample.imageSHA256s) ?? nearReason(sample.images.compactMap(\.uprightPHash)) ?? keywordReason(sample.keyword)
                ?? textReason(turns: sample.messages, recordID: sample.key, text: sample.text, keyword: nil) {
                out.append(.init(item: sample.item, message: "training sample carries \(reason)"))
            }
        }
        for record in context.shards.text {
            if let reason = textReason(turns: record.messages, recordID: record.id, text: record.text, keyword: record.keyword) {
                out.append(.init(item: record.item, message: "training record derives from \(reason)"))
            }
        }
        for conversation in context.exports.conversations {
            if let reason = imageReason(conversation.images.compactMap(\.sha256)) ?? nearReason(conversation.images.compactMap(\.uprightPHash))
                ?? textReason(turns: conversation.turns, recordID: conversation.id, text: nil, keyword: nil) {
                out.append(.init(item: conversation.item, message: "training export carries \(reason)"))
            }
        }

        // The split itself: every kept pair placed; every test question on a test image.
        if !manifest.keptPairs.isEmpty {
            for pair in manifest.keptPairs where split.split(image: pair.sha256, keyword: pair.keywordID) == nil {
                out.append(.init(item: "image \(pair.sha256) (\(manifest.keywords[pair.keywordID] ?? "keyword \(pair.keywordID)"))",
                                 message: "is kept but has no stored train/test split; run `dsbuild mcq` to place it"))
            }
        }
        for q in manifest.acceptedQuestions where q.split == "test" && !q.imageSHA256.isEmpty && !split.testImages.contains(q.imageSHA256) {
            out.append(.init(item: context.name(question: q.id),
                             message: "is a test question asked on image \(q.imageSHA256), which is not a test image (it may be trained on)"))
        }
        return out
    }

    /// The pHashes a test image may show up under: the stored pixels' (what the filter recorded) and the upright
    /// pixels' (what leaves the workspace when its EXIF orientation is not 1).
    static func testImageHashes(_ context: CheckContext) -> [(sha: String, phash: UInt64)] {
        var out: [(sha: String, phash: UInt64)] = []
        for sha in context.manifest.split.testImages.sorted() {
            guard let image = context.manifest.images[sha] else { continue }
            if let phash = image.phash { out.append((sha, phash)) }
            if let data = try? Data(contentsOf: context.workspace.imageURL(relativePath: image.path)),
               let upright = try? PerceptualHash.compute(data: data, upright: true).value, upright != image.phash {
                out.append((sha, upright))
            }
        }
        return out
    }

    /// Test images, and every stored image within `phashDistance` of one, with the reason each may not train.
    static func forbiddenImages(_ context: CheckContext) throws -> [String: String] {
        let manifest = context.manifest
        var out: [String: String] = [:]
        var testHashes = HammingIndex<String>(distance: context.phashDistance)
        for sha in manifest.split.testImages.sorted() {
            out[sha] = "test \(context.name(image: sha))"
            if let phash = manifest.images[sha]?.phash { testHashes.insert(phash, sha) }
        }
        for (keywordID, _) in manifest.split.keywordSplits where manifest.split.testKeywords.contains(keywordID) {
            for pair in manifest.keptPairs where pair.keywordID == keywordID && out[pair.sha256] == nil {
                out[pair.sha256] = "\(context.name(image: pair.sha256)) of test keyword \(manifest.keywords[keywordID] ?? "")"
            }
        }
        if testHashes.count > 0 {
            for image in manifest.images.values.sorted(by: { $0.sha256 < $1.sha256 }) where out[image.sha256] == nil {
                guard let phash = image.phash else { continue }
                if let near = testHashes.neighbours(of: phash).min(by: { $0.1 < $1.1 }) {
                    out[image.sha256] = "\(context.name(image: image.sha256)), within pHash distance \(near.1) of test image \(near.0)"
                }
            }
        }
        for (sha, near) in try semanticNeighbours(context, of: manifest.images.keys.filter { out[$0] == nil }) {
            out[sha] = "\(context.name(image: sha)), at embedding cosine \(String(format: "%.4f", near.cosine)) with test image \(near.test)"
        }
        return out
    }

    /// The images of `candidates` whose stored embedding meets a test image's at the semantic threshold, with the
    /// closest test image (none without a semantic match or stored vectors).
    static func semanticNeighbours(_ context: CheckContext, of candidates: [String]) throws -> [String: (test: String, cosine: Float)] {
        guard let semantic = context.semantic else { return [:] }
        let tests = context.manifest.split.testImages
        return try context.workspace.manifest.read { db -> [String: (test: String, cosine: Float)] in
            var index = CosineIndex<String>(dimension: semantic.vectors.model.dim, threshold: semantic.threshold)
            for (sha, vector) in try semantic.vectors.images(tests, in: db).sorted(by: { $0.key < $1.key }) { index.insert(vector, sha) }
            guard index.count > 0 else { return [:] }
            var out: [String: (test: String, cosine: Float)] = [:]
            for (sha, vector) in try semantic.vectors.images(candidates.filter { !tests.contains($0) }, in: db) {
                if let near = index.nearest(to: vector) { out[sha] = (near.value, near.cosine) }
            }
            return out
        }
    }
}
