import Dataset

/// Runs a stage's work on each pending item without recording anything: with an `EstimatingChatService` as the
/// stage's client, what the service's recorder holds afterwards is every request the stage would send now.
public enum StageRequests {
    /// Works through `stage`'s pending items, `concurrency` at a time; outcomes are dropped, a thrown error (a stage
    /// that stops) ends the walk quietly: the requests recorded so far are what the estimate counts.
    /// Returns how many items were pending.
    @discardableResult
    public static func walk<S: Stage>(_ stage: S, in manifest: Manifest, concurrency: Int = 2) async throws -> Int {
        let items = try await stage.pending(in: manifest)
        var next = 0
        await withTaskGroup(of: Void.self) { group in
            func add() {
                guard next < items.count else { return }
                let item = items[next]
                next += 1
                group.addTask { _ = try? await stage.work(on: item) }
            }
            for _ in 0..<max(concurrency, 1) { add() }
            while await group.next() != nil { add() }
        }
        return items.count
    }
}
