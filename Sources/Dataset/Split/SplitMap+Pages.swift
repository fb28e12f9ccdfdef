import GRDB

extension SplitMap {
    /// The split without its per-pair rows: the keyword splits and the test images (an image that is a test image
    /// for any keyword, or the image an accepted test question is asked with — an imported test question may be
    /// asked on an image the split put in train: that image is held out of every training artifact too). For stages that read pairs a page of keywords at a time: add a page's pairs with
    /// `withPairs(of:in:)`; pair lookups of keywords outside the page answer as for an unplaced pair.
    public static func loadWithoutPairs(in db: Database) throws -> SplitMap {
        var keywords: [Int64: String] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT keyword_id, split FROM splits WHERE image_sha256 = ''") {
            keywords[row["keyword_id"]] = row["split"]
        }
        let test = try Set(String.fetchAll(db, sql: Self.testImagesSQL))
        return SplitMap(imageSplits: [:], keywordSplits: keywords, testImages: test,
                        testKeywords: Set(keywords.filter { $0.value == "test" }.map(\.key)))
    }

    /// The hashes of the test images: of the split, and of the accepted test questions.
    public static let testImagesSQL = """
        SELECT image_sha256 FROM splits WHERE split = 'test' AND image_sha256 != ''
        UNION SELECT image_sha256 FROM questions
         WHERE status = 'accepted' AND split = 'test' AND image_sha256 IS NOT NULL AND image_sha256 != ''
        """

    /// This map with the per-pair splits of `keywordIDs` (only theirs: the rows of the stored split under
    /// those keywords); keyword splits and test images as they are.
    public func withPairs(of keywordIDs: [Int64], in db: Database) throws -> SplitMap {
        var images: [Pair: String] = [:]
        if !keywordIDs.isEmpty {
            for row in try Row.fetchAll(db, sql: """
                SELECT keyword_id, image_sha256, split FROM splits
                 WHERE keyword_id IN (\(KeptPairs.placeholders(keywordIDs.count))) AND image_sha256 != ''
                """, arguments: StatementArguments(keywordIDs)) {
                images[Pair(sha: row["image_sha256"], keywordID: row["keyword_id"])] = row["split"]
            }
        }
        return SplitMap(imageSplits: images, keywordSplits: keywordSplits, testImages: testImages, testKeywords: testKeywords)
    }
}
