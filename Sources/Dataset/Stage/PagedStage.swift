/// A `Stage` whose pending work is too large to hold at once (the filter's pairs at a million images): the
/// runner asks for it a page at a time, in a stable order, so memory stays flat in the size of the manifest.
///
/// A page is computed when the runner needs it, after the outcomes of earlier pages were recorded; pages are
/// keyed by a cursor (keyset pagination), not by offset, so recording an item never shifts a later page.
public protocol PagedStage: Stage {
    /// Where the next page starts (a keyword id, a row id…).
    associatedtype Cursor: Sendable

    /// How many items are pending, counted without loading them: the progress total and the run's `pending`.
    func pendingCount(in manifest: Manifest) async throws -> Int

    /// The pending items after `cursor` (nil: from the start), a bounded number of them, and the cursor of the
    /// page after (nil: this was the last). A page may be empty while later ones are not.
    func pendingPage(in manifest: Manifest, after cursor: Cursor?) async throws -> PendingPage<Item, Cursor>
}

/// One page of a `PagedStage`'s pending work.
public struct PendingPage<Item: Sendable, Cursor: Sendable>: Sendable {
    public var items: [Item]
    /// Where the next page starts; nil when this page was the last.
    public var next: Cursor?

    public init(items: [Item], next: Cursor?) {
        self.items = items
        self.next = next
    }
}

extension PagedStage {
    /// Every pending item, page after page (for callers that want the whole list, such as tests and dry runs).
    public func pending(in manifest: Manifest) async throws -> [Item] {
        var items: [Item] = []
        var cursor: Cursor? = nil
        repeat {
            let page = try await pendingPage(in: manifest, after: cursor)
            items += page.items
            cursor = page.next
        } while cursor != nil
        return items
    }
}
