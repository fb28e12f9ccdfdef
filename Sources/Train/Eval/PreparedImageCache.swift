import Foundation
import Synchronization

/// The images an eval run has already made upright and small enough for the model, by file: a question set asks
/// several questions per image (and `--circular` asks each four times), and decoding a 12-megapixel original
/// again for each is most of an eval's time. Bounded: past `limitBytes` the cache starts over.
final class PreparedImageCache: Sendable {
    private struct State {
        var images: [String: (data: Data, mimeType: String)] = [:]
        var bytes = 0
    }

    private let state = Mutex(State())
    let limitBytes: Int

    init(limitBytes: Int = 256 << 20) {
        self.limitBytes = limitBytes
    }

    /// The prepared image for `key`, made by `make` the first time (two questions racing may both make it).
    func prepare(_ key: String, _ make: () throws -> (data: Data, mimeType: String)) rethrows -> (data: Data, mimeType: String) {
        if let hit = state.withLock({ $0.images[key] }) { return hit }
        let made = try make()
        state.withLock { state in
            if state.bytes + made.data.count > limitBytes { state = State() }
            if state.images[key] == nil {
                state.images[key] = made
                state.bytes += made.data.count
            }
        }
        return made
    }
}
