@testable import Collect

/// A list read whole, for tests that look at every row at once (collect never holds a list: `ListStage`).
struct WholeList {
    var rows: [String: [Candidate]] = [:]
    /// The keywords in the order their first rows come.
    var keywords: [String] = []
    var problems: [String] = []
}

extension URLListSource {
    /// Every good row by keyword, and the problem lines, through `stream`.
    func whole() throws -> WholeList {
        var list = WholeList()
        try stream(problem: { list.problems.append($0) }) { batch in
            for row in batch {
                if list.rows[row.keyword] == nil { list.keywords.append(row.keyword) }
                list.rows[row.keyword, default: []].append(row.candidate)
            }
        }
        return list
    }
}
