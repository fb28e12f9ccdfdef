import Dataset
import Foundation
import GRDB

/// The kept images (under any keyword) that may not train: test images and their near duplicates.
///
/// Read in one pass over the kept images, with only the test images' pHashes in memory: the kept ones stream
/// past and each is compared with every test image (O(kept × test), as before). What stays is the count of kept
/// test images and the set of near duplicates (few: images within the duplicate rule's distance of a test image).
struct HeldOutImages: Sendable {
    /// How many distinct kept images are test images.
    var testImages = 0
    /// Kept images, not test images themselves, within `distance` of a test image.
    var nearDuplicatesOfTest: Set<String> = []

    static func find(in db: Database, testImages: Set<String>, distance: Int) throws -> HeldOutImages {
        // The imagehash-exact pHash and the fast one of each test image that has either.
        var testHashes: [(exact: UInt64?, fast: UInt64?)] = []
        if distance >= 0 {
            let rows = try Row.fetchCursor(db, sql: """
                SELECT sha256, phash, phash_fast FROM images
                 WHERE (phash IS NOT NULL OR phash_fast IS NOT NULL)
                   AND sha256 IN (SELECT image_sha256 FROM splits WHERE split = 'test' AND image_sha256 != '')
                """)
            while let row = try rows.next() {
                guard testImages.contains(row["sha256"]) else { continue }
                testHashes.append((parse(row["phash"]), parse(row["phash_fast"])))
            }
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
            guard distance >= 0 else { continue }
            let exact = parse(row["phash"]), fast = parse(row["phash_fast"])
            for test in testHashes {
                // The imagehash-exact pHash when both have it, else the fast one.
                let d: Int? = if let a = exact, let b = test.exact { (a ^ b).nonzeroBitCount }
                    else if let a = fast, let b = test.fast { (a ^ b).nonzeroBitCount } else { nil }
                if let d, d <= distance { out.nearDuplicatesOfTest.insert(sha); break }
            }
        }
        return out
    }

    private static func parse(_ hex: String?) -> UInt64? { hex.flatMap { UInt64($0, radix: 16) } }
}
