/// An error that stops a stage and says how its `runs` row is closed: `budget_exhausted` when the stage stopped
/// before a request would pass `llm.budget` (a rerun with a higher budget goes on where it stopped), `error`
/// otherwise. The runner closes the row of a stage that throws any other error as `error`.
public protocol RunStopping: Error {
    var runStatus: String { get }
}
