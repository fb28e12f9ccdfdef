import Dataset
import Foundation

/// `relevance_confusions`: no keyword's images were mostly taken for one other keyword of the dataset by the
/// relevance judge (`RelevanceConfusions.dominantSibling`). When they were, the keyword's label, its search query or
/// the keyword list is the likely error (a swapped name, two names for one thing), not each image: look at the
/// keyword before trusting its images. Passes trivially when the judge never ran.
struct RelevanceConfusionsCheck: WorkspaceCheck {
    let name = "relevance_confusions"
    let rule = "no keyword's judged images were mostly taken for one sibling keyword (a likely label or keyword-list error)"

    func run(_ context: CheckContext) throws -> [CheckViolation] {
        let table = try context.workspace.manifest.read { db in try RelevanceConfusions.load(db) }
        return table.likelyLabelErrors.map { error in
            CheckViolation(item: "keyword \(error.keyword)",
                           message: "\(error.images) of its \(error.judged) judged images were taken for \"\(error.sibling)\"; "
                               + "check the keyword's label and search query against \"\(error.sibling)\"")
        }
    }
}
