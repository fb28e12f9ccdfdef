/// A source that brings its own rows instead of answering searches (a URL list). Collect reads it once from start
/// to end, a batch at a time (`ListStage`), rather than asking it keyword by keyword, so neither the list nor its
/// candidates are ever held whole; its keywords are the ones its rows name, declared as they first appear.
public protocol ListingSource: ImageSource {
    /// Reads the list from its start. `batch` gets the good rows a batch at a time, in file order, as candidates with
    /// their keyword (a candidate's `rank` is its place among its keyword's rows); a row that cannot be used goes to
    /// `problem` as one line, `file:line: message`, and the rest goes on. What `batch` throws (a manifest error, a
    /// cancellation) stops the read and comes out as thrown; the list's own failures (no such file, no URL column,
    /// not parquet) are `CollectError`s naming the file.
    func stream(problem: (String) -> Void, batch: ([ListedCandidate]) throws -> Void) throws
}

/// One good row of a list: the keyword it names and its candidate.
public struct ListedCandidate: Sendable, Equatable {
    public var keyword: String
    public var candidate: Candidate

    public init(keyword: String, candidate: Candidate) {
        self.keyword = keyword
        self.candidate = candidate
    }
}
