import Dataset
import Foundation
import GRDB
import Imaging

/// The kept images (under any keyword) that may not train: test images and their near duplicates — by pHash, and,
/// with a `SemanticMatch` and stored embeddings, by embedding cosine (a crop or re-framing a pHash misses).
///
/// Read in one pass over the kept images, with only the test images' pHashes in memory, in `HammingIndex`es: the
/// kept ones stream past and each is compared only with the test images that share a bit block with it (exactly
/// the near ones the pairwise comparison finds, without its O(kept × test)). What stays is the count of kept test
/// images and the set of near duplicates (few: images within the duplicate rule's distance of a test image).
struct HeldOutImages: Sendable {
    /// How many distinct kept images are test images.
    var testImages = 0
    /// Kept images, not test images themselves, within `distance` of a test image, or at cosine ≥ the semantic
    /// threshold with one.
    var nearDuplicatesOfTest: Set<String> = []
    /// Of those, the ones only the embeddings found.
    var semanticOnly = 0

    /// The cosine side: the model's stored vectors and the threshold (`SemanticMatch`).
    struct Semantic {
        let vectors: EmbeddingVectors
        let threshold: Double
    }

    static func find(in db: Database, testImages: Set<String>, distance: Int, semantic: Semantic? = nil) throws -> HeldOutImages {
        // The imagehash-exact pHash when both images have it, else the fast one: test images by their exact hash,
        // by their fast hash, and by their fast hash when they have no exact one.
        var exactIndex = HammingIndex<Void>(distance: distance)
        var fastIndex = HammingIndex<Void>(distance: distance)
        var fastWithoutExact = HammingIndex<Void>(distance: distance)
        if distance >= 0 {
            let rows = try Row.fetchCursor(db, sql: """
                SELECT sha256, phash, phash_fast FROM images
                 WHERE (phash IS NOT NULL OR phash_fast IS NOT NULL)
                   AND sha256 IN (\(SplitMap.testImagesSQL))
                """)
            while let row = try rows.next() {
                guard testImages.contains(row["sha256"]) else { continue }
                let exact = parse(row["phash"]), fast = parse(row["phash_fast"])
                if let exact { exactIndex.insert(exact, ()) }
                if let fast {
                    fastIndex.insert(fast, ())
                    if exact == nil { fastWithoutExact.insert(fast, ()) }
                }
            }
        }
        // Test images by their embeddings (the few test images' vectors are held; kept ones are read as they pass).
        var cosineIndex: CosineIndex<String>?
        if let semantic {
            var index = CosineIndex<String>(dimension: semantic.vectors.model.dim, threshold: semantic.threshold)
            for (sha, vector) in try semantic.vectors.images(testImages, in: db).sorted(by: { $0.key < $1.key }) { index.insert(vector, sha) }
            if index.count > 0 { cosineIndex = index }
        }
        var out = HeldOutImages()
        var last: String? = nil
        let kept = try Row.fetchCursor(db, sql: """
            SELECT kp.image_sha256 AS sha, i.phash, i.phash_fast
              FROM kept_pairs kp LEFT JOIN images i ON i.sha256 = kp.image_sha256
             ORDER BY kp.image_sha256
            """)
        while let row = try kept.next() {
            let sha: String = row["sha"]
            if sha == last { continue }  // kept under several keywords
            last = sha
            if testImages.contains(sha) { out.testImages += 1; continue }
            let exact = parse(row["phash"]), fast = parse(row["phash_fast"])
            var near = false
            if distance < 0 {
                near = false
            } else if let exact {
                // Exact against the test images that have one; fast against those that have only the fast one.
                near = exactIndex.containsNeighbour(of: exact) || fast.map { fastWithoutExact.containsNeighbour(of: $0) } ?? false
            } else {
                near = fast.map { fastIndex.containsNeighbour(of: $0) } ?? false
            }
            if !near, let cosineIndex, let semantic, let vector = try semantic.vectors.image(sha, in: db),
               cosineIndex.nearest(to: vector) != nil {
                near = true
                out.semanticOnly += 1
            }
            if near { out.nearDuplicatesOfTest.insert(sha) }
        }
        return out
    }

    private static func parse(_ hex: String?) -> UInt64? { hex.flatMap { UInt64($0, radix: 16) } }
}
